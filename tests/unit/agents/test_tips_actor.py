"""What the Tips actor is shown and how it picks, with the scripted model."""

from retinue.agents.tips.actor import command_prompt, history, llm_command
from retinue.agents.tips.state import StepRecord, TipsContext
from retinue.config import LLMConfig
from retinue.envs.textworld import GameObservation
from retinue.llms import ScriptedChatModel, UsageRecorder

SEEN = GameObservation(
    text="You open the fridge, revealing a white onion.",
    admissible=["close fridge", "go east", "look", "take white onion from fridge"],
    objective="Cook the recipe and eat the meal.",
    score=0,
    max_score=3,
    moves=2,
    won=False,
    lost=False,
    description="-= Kitchen =-\nA counter holds a knife and a cookbook.",
    inventory="You are carrying: a red apple.",
)


def _step(number: int, command: str, answer: str) -> StepRecord:
    return StepRecord(
        step=number, command=command, observation=answer, score=0, reward=0.0, admissible=True, fallback=False
    )


def _context(model: ScriptedChatModel, usage: UsageRecorder) -> TipsContext:
    return TipsContext(llm=model, usage=usage, llm_config=LLMConfig(backoff_seconds=0), method="none")


def test_the_actor_sees_the_room_its_inventory_and_the_games_last_answer() -> None:
    prompt = command_prompt(_context(ScriptedChatModel(responses=[]), UsageRecorder()), {"steps": []}, SEEN)
    text = str(prompt.messages[0].content)
    assert "A counter holds a knife and a cookbook." in text  # the room, though the last answer does not say it
    assert "You are carrying: a red apple." in text
    assert "revealing a white onion" in text
    assert prompt.options == SEEN.admissible and prompt.kind == "text"


def test_the_history_shows_whole_answers_newest_first_within_the_budget() -> None:
    steps = [
        _step(1, "examine cookbook", "You open the cookbook.\nRecipe #1\nIngredients: white onion\nDirections: chop"),
        _step(2, "open fridge", "You open the fridge, revealing a white onion."),
        _step(3, "look", "-= Kitchen =-\nA counter holds a knife."),
    ]
    shown = history(steps, 1000)
    assert shown.splitlines() == [
        "> examine cookbook: You open the cookbook. Recipe #1 Ingredients: white onion Directions: chop",
        "> open fridge: You open the fridge, revealing a white onion.",
        "> look: -= Kitchen =- A counter holds a knife.",
    ]
    budget = (len(shown.splitlines()[1]) + len(shown.splitlines()[2]) + 2) // 4 + 1  # the newest two fit
    assert history(steps, budget).splitlines() == shown.splitlines()[1:]
    assert history(steps, 0) == ""


def test_the_actor_picks_a_command_by_the_models_scores_not_by_where_it_is_listed() -> None:
    usage = UsageRecorder()
    wanted = "take white onion from fridge"
    model = ScriptedChatModel(responses=[wanted, "nonsense", "nonsense", "nonsense"], callbacks=[usage])
    work: dict[str, object] = {"steps": [], "guidance": []}
    context = _context(model, usage)
    assert llm_command(context, work, SEEN) == (wanted, False)  # type: ignore[arg-type]
    sent = model.calls[0]
    assert sent.kwargs["choice"]["options"] != SEEN.admissible  # shown shuffled, not in the game's order
    assert sorted(sent.kwargs["choice"]["options"]) == sorted(SEEN.admissible)
    assert llm_command(context, work, SEEN) == ("look", True)  # three bad replies: the safe default
    assert work["llm_calls"] == 5  # the pick and its PMI premise (asked once), three bad replies
    assert model.calls[1].kwargs["choice"]["baseline"] and model.calls[1].messages[-1].content == ">"
    model.assert_all_used()
