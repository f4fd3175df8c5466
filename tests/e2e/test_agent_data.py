"""Training examples for the Tips actor from real TextWorld train games: the prompts are the ones the
actor sees at run time, the labels are the walkthrough's and TextWorld's optimal commands, and games
outside the train split are refused."""

import dataclasses
import json
import re
from pathlib import Path

import jsonschema
import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.memory import InMemoryStore

from retinue.agent_data import actor_examples, introspector_examples
from retinue.agents.tips import TipsContext, notes, plan_episodes
from retinue.agents.tips.introspector import TIP_CHARS, tips_schema
from retinue.config import LLMConfig
from retinue.envs.knowledge_graph import KnowledgeGraph
from retinue.envs.textworld_suite import GameEntry, load_games
from retinue.errors import RetinueError
from retinue.graphs.tips import build_tips_graph
from retinue.llms import ScriptedChatModel, UsageRecorder
from retinue.llms.structured import decision_messages
from retinue.memory import namespaces
from tests.real_parts import suite_of

pytestmark = pytest.mark.e2e


def test_expert_examples_are_the_prompts_the_actor_sees_at_run_time(tw_suite: Path, tmp_path: Path) -> None:
    games = suite_of(tw_suite, tmp_path, [1])
    examples = list(actor_examples(games, deviations=0))
    (entry,) = load_games(games)
    walkthrough = [e.target for e in examples]
    assert len(examples) == entry.walkthrough_steps and {e.provenance["kind"] for e in examples} == {"expert"}

    # The actor plays the same game, scripted to pick the walkthrough's commands.
    usage = UsageRecorder()
    model = ScriptedChatModel(responses=walkthrough, callbacks=[usage])
    context = TipsContext(
        llm=model,
        usage=usage,
        llm_config=LLMConfig(backoff_seconds=0, cache=False),
        games={entry.id: entry},
        paths={entry.id: entry.path(games)},
        method="none",
    )
    graph = build_tips_graph().compile(checkpointer=InMemorySaver(), store=InMemoryStore())
    inputs = {"schedule": plan_episodes("own", [entry.id], [], 1), "demonstrations": [], "studied": 0}
    final = graph.invoke(
        inputs | {"current": None, "episodes": []}, {"configurable": {"thread_id": "t"}}, context=context
    )
    context.live.close()
    assert final["episodes"][0]["won"]
    asked = _picks(model)
    _assert_posed(asked, examples)
    assert all(e.stem == ">" and e.target in e.options for e in examples)


def test_recovery_examples_label_states_off_the_experts_path(tw_suite: Path, tmp_path: Path) -> None:
    games = suite_of(tw_suite, tmp_path, [1, 2])
    examples = list(actor_examples(games, deviations=3, recovery_steps=4, seed=7))
    recovery = [e for e in examples if e.provenance["kind"] == "recovery"]
    assert recovery and len({e.provenance["game"] for e in recovery}) == 2
    assert all(e.target in e.options and e.provenance["split"] == "train" for e in examples)
    for example in recovery:
        prompt = example.messages[-1]["content"]
        assert f"> {example.provenance['mistake']}:" in prompt  # the mistake is in the history the actor sees
        assert example.provenance["mistake"] != example.target
    again = list(actor_examples(games, deviations=3, recovery_steps=4, seed=7))
    assert [e.to_json() for e in again] == [e.to_json() for e in examples]  # seeded: the same data


def _picks(model: ScriptedChatModel) -> list:
    """The choices the model was asked to make (not the calibration's content-free calls)."""
    return [c for c in model.calls if "choice" in c.kwargs and not c.kwargs["choice"]["baseline"]]


def _assert_posed(asked: list, examples: list) -> None:
    """The choices asked at run time are the examples', prompt for prompt and in the options' shown order."""
    assert [str(c.messages[-1].content) for c in asked] == [e.messages[-1]["content"] for e in examples]
    assert [c.kwargs["choice"]["options"] for c in asked] == [e.options for e in examples]


def _by_question(examples: list) -> dict[str, list]:
    grouped: dict[str, list] = {}
    for example in examples:
        grouped.setdefault(example.provenance["question"], []).append(example)
    return grouped


def _play_tips(entry: GameEntry, games: Path, responses: list, store: InMemoryStore, trials: int) -> ScriptedChatModel:
    """The `tips` method on one game, own setting, its actor and introspector scripted by `responses`."""
    usage = UsageRecorder()
    model = ScriptedChatModel(responses=responses, callbacks=[usage])
    context = TipsContext(
        llm=model,
        usage=usage,
        llm_config=LLMConfig(backoff_seconds=0, cache=False),
        games={entry.id: entry},
        paths={entry.id: entry.path(games)},
        method="tips",
    )
    graph = build_tips_graph().compile(checkpointer=InMemorySaver(), store=store)
    inputs = {"schedule": plan_episodes("own", [entry.id], [], trials), "demonstrations": [], "studied": 0}
    graph.invoke(inputs | {"current": None, "episodes": []}, {"configurable": {"thread_id": "t"}}, context=context)
    context.live.close()
    return model


def test_tips_passes_are_the_prompts_of_a_later_trial_and_leave_the_rest_as_it_was(
    tw_suite: Path, tmp_path: Path
) -> None:
    games = suite_of(tw_suite, tmp_path, [1, 2])
    plain = list(actor_examples(games, deviations=2, recovery_steps=4))  # seed 0: the options as run time shows them
    both = list(actor_examples(games, deviations=2, recovery_steps=4, tips_passes=2))
    assert [e for e in both if e.provenance["kind"] != "expert_with_tips"] == plain  # older recipes unchanged
    guided = [e for e in both if e.provenance["kind"] == "expert_with_tips"]
    assert {e.provenance["tips_from_attempts"] for e in guided} == {1, 2}
    for entry in load_games(games):
        expert = [e.target for e in plain if e.provenance["game"] == entry.id and e.provenance["kind"] == "expert"]
        first = [e for e in guided if e.provenance["game"] == entry.id and e.provenance["tips_from_attempts"] == 1]
        assert [e.target for e in first] == expert  # the expert's path again, now with tips to read

    # The actor, given those tips in its game's namespace, is asked exactly the examples' prompts.
    entry = load_games(games)[0]
    first = [e for e in guided if e.provenance["game"] == entry.id and e.provenance["tips_from_attempts"] == 1]
    prompt = first[0].messages[-1]["content"]
    shown = prompt.split("Tips learned from earlier play:\n", 1)[1].split("\nRecent steps:")[0]
    tips = [line.removeprefix("- ") for line in shown.splitlines()]
    assert tips and all(len(tip) <= TIP_CHARS for tip in tips)
    store = InMemoryStore()
    notes.replace(store, namespaces.tips_game("tips", entry.id), tips)
    model = _play_tips(entry, games, [e.target for e in first], store, trials=1)
    asked = _picks(model)
    _assert_posed(asked, first)


def test_introspector_examples_are_its_request_after_a_failed_attempt(tw_suite: Path, tmp_path: Path) -> None:
    games = suite_of(tw_suite, tmp_path, [1, 2])
    made = list(introspector_examples(games, deviations=2, recovery_steps=4))
    assert made and {e.role for e in made} == {"introspector"} and {e.provenance["split"] for e in made} == {"train"}
    for example in made:
        system, request = (m["content"] for m in example.messages)
        assert example.options == [example.target] and example.stem == ""
        assert system == decision_messages([], tips_schema(5))[0].content
        reply = json.loads(example.target)
        jsonschema.validate(reply, tips_schema(5))
        for tip in reply["tips"]:  # every command a tip names is one the request shows
            for command in re.findall(r"'([^']+)'", tip):
                assert f"> {command}:" in request or f"'{command}'" in request, (command, request)
    assert any(e.provenance["tips_before"] for e in made)  # a second attempt, with the first one's tips

    # Run time: the actor replays a first attempt (the game stopped where the attempt stopped), then the
    # introspector is asked exactly the example's request.
    example = next(e for e in made if not e.provenance["tips_before"])
    entry = next(g for g in load_games(games) if g.id == example.provenance["game"])
    request = example.messages[-1]["content"]
    trajectory = "\n" + request.split("(points gained): ", 1)[1]  # the template folds its lines
    commands = re.findall(r"^> (.+?):", trajectory, flags=re.MULTILINE)
    assert commands and example.provenance["mistake"] in commands
    stopped = dataclasses.replace(entry, step_limit=len(commands))
    replies = [*commands, json.loads(example.target), *commands]  # trial 1, its tips, trial 2 (learns nothing)
    model = _play_tips(stopped, games, replies, InMemoryStore(), trials=2)
    introspected = next(c for c in model.calls if "choice" not in c.kwargs)
    assert [m.content for m in introspected.messages] == [m["content"] for m in example.messages]


def test_games_outside_the_train_split_are_refused(tw_suite: Path, tmp_path: Path) -> None:
    games = suite_of(tw_suite, tmp_path, [1], split="test")
    with pytest.raises(RetinueError, match="comes only from games made with `retinue games make --split train`"):
        next(actor_examples(games))


SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.fixture(scope="module")
def kg() -> KnowledgeGraph:
    """MetaQA's graph, loaded once for the EffiQA examples' tests."""
    return KnowledgeGraph.load(SHARED / "metaqa" / "kb.txt")


def _assert_held_in(examples: list) -> None:
    """Examples there are, and none of them from a question of MetaQA dev's validation part."""
    from retinue.envs.kgqa import metaqa_questions, split_dev

    held_out = {q.id for hops in (1, 2, 3) for q in split_dev(metaqa_questions(SHARED, hops), 0)[1]}
    assert examples and not {e.provenance["question"] for e in examples} & held_out  # validation: never


@pytest.mark.skipif(not (SHARED / "metaqa").is_dir(), reason="the shared MetaQA data is not there")
def test_planner_examples_are_the_planners_prompts_on_held_in_questions_only(kg: KnowledgeGraph) -> None:
    from retinue.agent_data import planner_examples, train_questions
    from retinue.agents.effiqa.planner import plan_path
    from retinue.runs.context import RunContext

    questions = train_questions(SHARED, [1, 2, 3], split_seed=0, limit=20)
    examples = list(planner_examples(kg, questions, split_seed=0))
    _assert_held_in(examples)
    assert all(e.target in e.options for e in examples)

    # The planner, scripted to pick the targets, is asked exactly the examples' prompts in the same order.
    by_question = _by_question(examples)
    question = next(q for q in questions if q.id in by_question and len(q.path or ()) == 2)
    picks = by_question[question.id]
    usage = UsageRecorder()
    model = ScriptedChatModel(responses=[e.target for e in picks], callbacks=[usage])
    context = RunContext(llm=model, usage=usage, llm_config=LLMConfig(backoff_seconds=0, cache=False))
    mentions = kg.mentions(question.text)
    node = mentions[0][1][0]
    plan = plan_path(context, kg, question.text, (kg.label(node), node), "", 3)
    assert [s.name for s in plan.steps] == picks[0].provenance["gold_path"]
    asked = _picks(model)
    _assert_posed(asked, picks)


@pytest.mark.skipif(not (SHARED / "metaqa").is_dir(), reason="the shared MetaQA data is not there")
def test_tog_examples_are_its_picks_along_the_gold_path(kg: KnowledgeGraph) -> None:
    from retinue.agent_data import tog_examples, train_questions
    from retinue.agents.effiqa import EffiQAContext, EffiQASettings
    from retinue.agents.effiqa.baselines import ToGPath, entity_choice
    from retinue.envs.kgqa import KGQuestion
    from retinue.graphs.effiqa import BUILDERS

    questions = train_questions(SHARED, [1, 2, 3], split_seed=0, limit=30)
    examples = list(tog_examples(kg, questions, split_seed=0))
    _assert_held_in(examples)
    assert {e.role for e in examples} == {"tog_relations", "tog_entities"}
    assert all(e.target in e.options and len(e.options) > 1 for e in examples)

    # ToG with a beam of one, scripted to pick the targets (and to find the paths never enough), is asked
    # exactly the examples' prompts in the same order, and walks the gold path's first two hops.
    by_question = _by_question(examples)
    settings = EffiQASettings(tog_width=1, tog_depth=2)

    def one_entity_first(question: KGQuestion) -> bool:  # the first hop reaches one entity: ToG asks nothing
        (topic,) = {node for _, found in kg.mentions(question.text) for node in found}
        start = ToGPath([], [], topic, frozenset([topic]))
        return entity_choice(settings, kg, question.text, start, (question.path or ())[0])[0] is None

    question = next(  # a 3-hop question: its first relation, then both picks at its second hop
        q
        for q in questions
        if len(q.path or ()) == 3
        and [(e.role, e.provenance["position"]) for e in by_question.get(q.id, [])][:3]
        == [("tog_relations", 0), ("tog_relations", 1), ("tog_entities", 1)]
        and one_entity_first(q)
    )
    picks = by_question[question.id][:3]
    responses = [{"pick": picks[0].target}, "no", {"pick": picks[1].target}, {"pick": picks[2].target}, "no"]
    usage = UsageRecorder()
    model = ScriptedChatModel(responses=responses, callbacks=[usage])
    context = EffiQAContext(llm=model, usage=usage, llm_config=LLMConfig(backoff_seconds=0), kg=kg, settings=settings)
    graph = BUILDERS["tog"]().compile(checkpointer=InMemorySaver())
    final = graph.invoke(
        {"questions": [question.text], "current": None, "results": []},
        config={"configurable": {"thread_id": "t"}},
        context=context,
    )
    asked = _picks(model)
    asked = [c for c in asked if set(c.kwargs["choice"]["options"]) != {"yes", "no"}]  # not "enough?"
    _assert_posed(asked, picks)
    assert final["results"][0]["path"] == picks[0].provenance["gold_path"][:2]


def test_reflector_examples_are_its_verdict_prompts_on_a_right_and_a_wrong_path(kg: KnowledgeGraph) -> None:
    from retinue.agent_data import reflector_examples, train_questions
    from retinue.agents.effiqa.planner import answer_check, check_answer
    from retinue.envs.knowledge_graph import Step
    from retinue.runs.context import RunContext
    from retinue.tools.kg_explorer import follow_path

    questions = train_questions(SHARED, [1, 2, 3], split_seed=0, limit=6)
    reasons: list[str] = []

    def reason(case: object) -> str:  # what the model would write first; here a marker per call
        reasons.append(f"check number {len(reasons)}")
        return reasons[-1]

    examples = list(reflector_examples(kg, questions, reason, split_seed=0))
    _assert_held_in(examples)
    gold = [e for e in examples if e.target == "accept"]
    wrong = [e for e in examples if e.target == "revise"]
    assert len(gold) == len(wrong) >= 6 and {e.provenance["hops"] for e in examples} == {1, 2, 3}
    assert all(e.provenance["path"] == e.provenance["gold_path"] for e in gold)
    assert all(e.provenance["path"] != e.provenance["gold_path"] for e in wrong)

    # The reflector, scripted to write the same reason and pick the target, is shown the example's prompt
    # for the path as the explorer reports it.
    by_id = {q.id: q for q in questions}
    for example in (gold[0], wrong[-1]):
        question = by_id[example.provenance["question"]]
        node = kg.mentions(question.text)[0][1][0]
        found = follow_path(kg, node, [Step.parse(name) for name in example.provenance["path"]]).to_dict()
        written = example.messages[-1]["content"].split("Your check: ")[1].split("\n")[0]
        usage = UsageRecorder()
        model = ScriptedChatModel(responses=[f'{{"reason": "{written}"}}', example.target], callbacks=[usage])
        context = RunContext(llm=model, usage=usage, llm_config=LLMConfig(backoff_seconds=0, cache=False))
        verdict, said, _ = check_answer(context, answer_check(question.text, kg.label(node), found))
        assert (verdict, said) == (example.target, written)
        asked = _picks(model)
        assert [str(c.messages[-1].content) for c in asked] == [example.messages[-1]["content"]]
        assert asked[0].kwargs["choice"]["options"] == example.options


@pytest.mark.skipif(not (SHARED / "sentiment").is_dir(), reason="the shared sentiment data is not there")
def test_news_analyst_examples_are_its_prompts_on_sentences_the_probe_never_reads() -> None:
    from retinue.agent_data import analyst_examples
    from retinue.agents.fincon.analysts import read_source
    from retinue.datasets.sentiment import financial_phrasebank, phrasebank_split
    from retinue.runs.context import RunContext

    examples = list(analyst_examples(SHARED, 6, seed=3))
    assert [e.target for e in examples].count("negative") == 6 and len(examples) == 18  # balanced labels
    _, test = phrasebank_split(financial_phrasebank(SHARED), seed=0)  # what the analyst probe reads
    read = {s for e in examples for s in e.provenance["sentences"]}
    assert not read & {text for text, _ in test} and len(read) == sum(len(e.provenance["sentences"]) for e in examples)
    assert all(e.provenance["split"] == "train" and e.target in e.options for e in examples)

    # The analyst, scripted to write the example's key point and pick its target, is asked the same prompt.
    example = examples[4]
    prompt = example.messages[-1]["content"]
    ticker = prompt.split("covering ")[1].split(".")[0]
    day = prompt.split("up to ")[1].split(")")[0]
    memories = prompt.split("Memory: ")[1].split(" Your investment belief")[0]
    usage = UsageRecorder()
    key_point = example.provenance["sentences"][0]
    model = ScriptedChatModel(responses=[{"key_point": key_point}, example.target], callbacks=[usage])
    context = RunContext(llm=model, usage=usage, llm_config=LLMConfig(backoff_seconds=0, cache=False))
    reading = read_source(context, "news", ticker, day, memories, "none yet")
    assert reading.signal == example.target
    asked = _picks(model)
    assert [str(c.messages[-1].content) for c in asked] == [prompt]
    assert [c.kwargs["choice"]["options"] for c in asked] == [example.options]
    again = list(analyst_examples(SHARED, 6, seed=3))
    assert [e.to_json() for e in again] == [e.to_json() for e in examples]  # seeded: the same data


@pytest.mark.skipif(not (SHARED / "market").is_dir(), reason="the shared market data is not there")
def test_manager_examples_are_its_decisions_on_training_days_labelled_by_what_earned() -> None:
    import math
    from datetime import date

    from retinue.agent_data import manager_days, manager_examples
    from retinue.agent_data.fincon import HOLD_BAND, TRAIN_WINDOW
    from retinue.agents.fincon.manager import ManagerCase, decide_position
    from retinue.datasets.prices import load_prices
    from retinue.probes.fincon import TICKERS as PROBE_TICKERS
    from retinue.runs.context import RunContext

    read: list[tuple[str, str]] = []

    def read_news(ticker: str, day: str, memories: str) -> tuple[str, str]:  # the analyst, scripted
        read.append((ticker, day))
        return f"key point {len(read)}", ("positive", "negative", "neutral")[len(read) % 3]

    days = list(manager_days(SHARED, read_news, seed=1))
    assert {d.case.ticker for d in days}.isdisjoint(PROBE_TICKERS)  # the probe's days are never trained on
    assert all(TRAIN_WINDOW[0] <= date.fromisoformat(d.case.day) < d.next_day <= TRAIN_WINDOW[1] for d in days)
    assert read and {t for t, _ in read} <= {"GOOG", "TSLA"}  # the tickers with news in the window
    prices = load_prices(SHARED, ["TSLA"])["TSLA"]
    close = dict(zip(prices.dates, prices.close, strict=True))
    for found in [d for d in days if d.case.ticker == "TSLA"][:20]:
        earned = math.log(close[found.next_day] / close[date.fromisoformat(found.case.day)])
        assert found.log_return == pytest.approx(earned)
        assert found.earned == ("BUY" if earned > HOLD_BAND else "SELL" if earned < -HOLD_BAND else "HOLD")

    cases: list[ManagerCase] = []

    def reasons(case: ManagerCase) -> str:  # what the model would write first; here a marker per call
        cases.append(case)
        return f"weighing number {len(cases)}"

    examples = list(manager_examples(days, reasons, per_label=15, seed=0))  # run time shows seed 0's order
    assert sorted(e.target for e in examples) == ["BUY"] * 15 + ["HOLD"] * 15 + ["SELL"] * 15
    assert all(e.provenance["consensus"] == e.target for e in examples)  # the evidence pointed to what earned
    assert all((e.provenance["log_return"] > HOLD_BAND) == (e.target == "BUY") for e in examples)

    # The manager, scripted to write the same reasons and pick the target, is asked the example's prompt.
    example, case = examples[7], cases[7]
    usage = UsageRecorder()
    assert "Your reasoning: weighing number 8 " in example.messages[-1]["content"]
    model = ScriptedChatModel(responses=[{"reasons": "weighing number 8"}, example.target], callbacks=[usage])
    context = RunContext(llm=model, usage=usage, llm_config=LLMConfig(backoff_seconds=0, cache=False))
    assert decide_position(context, case).action == example.target
    asked = _picks(model)
    assert [str(c.messages[-1].content) for c in asked] == [example.messages[-1]["content"]]
    assert [c.kwargs["choice"]["options"] for c in asked] == [example.options]
