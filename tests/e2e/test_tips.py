"""Introspective Tips on real TextWorld games made by tw-make: the suite, the adapter, the baselines, the
learning settings (scripted model, for the mechanism) and one run with the embedded model, through the CLI."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from retinue.agents.tips import TipsContext
from retinue.agents.tips.actor import llm_command
from retinue.config import LLMConfig
from retinue.envs.textworld import TextWorldEnv
from retinue.envs.textworld_suite import load_manifest, make_games
from retinue.llms import UsageRecorder
from retinue.llms.scripted import ScriptedChatModel

pytestmark = pytest.mark.e2e
GATA_MAX_SCORES = {1: 4, 2: 5, 3: 3, 4: 11, 5: 11}


def _cli(*args: str, stdin: str | None = None, home: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RETINUE_HOME": str(home)} if home else None
    return subprocess.run(
        [sys.executable, "-m", "retinue.cli", *args], capture_output=True, text=True, timeout=900, input=stdin, env=env
    )


def _results(run: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    metrics = json.loads((run / "metrics.json").read_text())
    steps = [json.loads(line) for line in (run / "episodes.jsonl").read_text().splitlines()]
    return metrics, steps


def _subset(suite: Path, tmp_path: Path, levels: list[int], name: str) -> Path:
    """A suite folder holding some of `suite`'s games (links), with its own manifest."""
    folder = tmp_path / name
    folder.mkdir()
    kept = [e for e in json.loads((suite / "manifest.json").read_text())["games"] if e["level"] in levels]
    for entry in kept:
        for suffix in (".z8", ".json"):
            (folder / entry["file"]).with_suffix(suffix).symlink_to((suite / entry["file"]).with_suffix(suffix))
    (folder / "manifest.json").write_text(json.dumps({"games": kept}))
    return folder


def test_level_flags_give_the_gata_max_scores_and_a_rerun_makes_nothing(tw_suite: Path) -> None:
    entries = load_manifest(tw_suite)
    assert {e.level: e.max_score for e in entries} == GATA_MAX_SCORES
    assert {e.level: e.step_limit for e in entries} == {1: 50, 2: 50, 3: 50, 4: 50, 5: 100}
    assert len({e.seed for e in entries}) == 5 and all(len(e.fingerprint) == 64 for e in entries)
    seen: list[tuple[int, int]] = []
    again = make_games(
        [1, 2, 3, 4, 5], "train", 1, 0, tw_suite, progress=lambda done, total: seen.append((done, total))
    )
    assert again == entries and seen == [(5, 5)]


def test_the_walkthrough_agent_wins_every_generated_game(tw_suite: Path, tmp_path: Path) -> None:
    done = _cli(
        "eval",
        "tips",
        "--games",
        str(tw_suite),
        "--method",
        "walkthrough",
        "--trials",
        "1",
        "--out",
        str(tmp_path / "run"),
    )
    assert done.returncode == 0, done.stderr
    metrics, steps = _results(tmp_path / "run")
    assert metrics["episodes"] == 5 and metrics["success_rate"] == 1.0 and metrics["normalized_score"] == 1.0
    assert metrics["llm_calls"] == 0
    assert {s["game"] for s in steps} == {e.id for e in load_manifest(tw_suite)}
    # Walkthroughs open doors that are already open: real commands, just not admissible ones.
    assert all("already open" in s["observation"] for s in steps if not s["admissible"])
    assert all(not s["observation"].endswith(">") for s in steps)


def test_the_random_agent_plays_every_level_to_its_step_limit_without_an_error(tw_suite: Path, tmp_path: Path) -> None:
    done = _cli(
        "eval", "tips", "--games", str(tw_suite), "--method", "random", "--trials", "2", "--out", str(tmp_path / "run")
    )
    assert done.returncode == 0, done.stderr
    metrics, steps = _results(tmp_path / "run")
    episodes = [json.loads(line) for line in (tmp_path / "run" / "episodes.jsonl").read_text().splitlines()]
    assert metrics["episodes"] == 10 and metrics["invalid_action_rate"] == 0.0
    assert len(steps) == len(episodes) >= 100  # every step was recorded, none raised
    assert all(s["admissible"] for s in steps)
    assert 0.0 <= metrics["normalized_score"] < 1.0
    assert (tmp_path / "run" / "learning_curve.png").stat().st_size > 0


def test_the_actor_can_only_choose_an_admissible_command(tw_suite: Path) -> None:
    game = tw_suite / "L1-train-000.z8"
    env = TextWorldEnv(game)
    seen = env.reset()
    env.close()
    wrong = "eat the fridge"
    usage = UsageRecorder()
    model = ScriptedChatModel(responses=[wrong, wrong, wrong, seen.admissible[2]], callbacks=[usage])
    config = LLMConfig(provider="scripted", decision_attempts=3, backoff_seconds=0)
    context = TipsContext(llm=model, usage=usage, llm_config=config, method="none")
    work: dict[str, Any] = {"steps": [], "guidance": []}
    assert llm_command(context, work, seen) == ("look", True)  # three invalid replies: the safe default
    assert llm_command(context, work, seen) == (seen.admissible[2], False)
    assert sorted(model.calls[0].kwargs["choice"]["options"]) == sorted(seen.admissible)
    assert work["llm_calls"] == 5  # three invalid replies, a valid one and its PMI premise
    model.assert_all_used()


def _scripted_eval(script: Path, run: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """`eval tips` with the scripted model reading `script`, into `run`."""
    return _cli("eval", "tips", *options, "--llm", "scripted", "--script", str(script), "--no-cache", "--out", str(run))


def _walkthrough(game: Path) -> list[str]:
    env = TextWorldEnv(game)
    env.reset()
    env.close()
    return env.walkthrough


def _script(path: Path, responses: list[Any]) -> Path:
    path.write_text(json.dumps({"responses": responses}))
    return path


def test_own_tips_are_written_per_game_and_given_to_the_next_trial(tw_suite: Path, tmp_path: Path) -> None:
    games = _subset(tw_suite, tmp_path, [1], "l1")
    tips = ["Read the cookbook before anything else.", "Take the ingredients the recipe names."]
    script = _script(
        tmp_path / "script.json",
        ["inventory", "examine cookbook", {"tips": tips}] + ["inventory", "examine cookbook"],
    )
    run = tmp_path / "run"
    done = _scripted_eval(script, run, "--games", str(games), "--method", "tips", "--trials", "2", "--max-steps", "2")
    assert done.returncode == 0, done.stderr
    metrics, steps = _results(run)
    assert [s["command"] for s in steps] == ["inventory", "examine cookbook"] * 2
    assert [s["trial"] for s in steps] == [1, 1, 2, 2]
    # four picks, one PMI premise (the same commands were admissible at every step), one introspection
    # (none after the last trial)
    assert metrics["llm_calls"] == 6 and metrics["mean_steps"] == 2
    assert set(metrics) >= {"normalized_score_trial_1", "normalized_score_trial_2", "tokens", "success_rate"}
    assert json.loads((run / "tips.json").read_text()) == {"tips/game/L1-train-000": tips}
    state = _final_state(run)
    assert [e["guidance"] for e in state["episodes"]] == [[], tips]
    assert state["episodes"][0]["learned"] == tips
    # A person playing the same game sees the tips this run learned.
    played = _cli("play", str(games / "L1-train-000.z8"), "--tips-from", str(run), stdin="/tips\n/quit\n")
    assert played.returncode == 0 and "- Read the cookbook before anything else." in played.stdout


def _final_state(run: Path) -> dict[str, Any]:
    """The run's last checkpoint, read with LangGraph's own saver."""
    import sqlite3

    from langgraph.checkpoint.sqlite import SqliteSaver

    thread = json.loads((run / "run.json").read_text())["thread_id"]
    with sqlite3.connect(run / "checkpoints.sqlite") as conn:
        checkpoint = SqliteSaver(conn).get({"configurable": {"thread_id": thread}})
    assert checkpoint is not None
    return checkpoint["channel_values"]


def test_cross_gives_what_was_learned_on_train_games_to_unseen_test_games(tw_suite: Path, tmp_path: Path) -> None:
    train = _subset(tw_suite, tmp_path, [1], "train")
    test = _subset(tw_suite, tmp_path, [2], "test")
    script = _script(tmp_path / "script.json", ["inventory", "inventory"])
    run = tmp_path / "run"
    done = _scripted_eval(
        script,
        run,
        "--games",
        str(test),
        "--train-games",
        str(train),
        "--setting",
        "cross",
        "--method",
        "raw",
        "--trials",
        "1",
        "--max-steps",
        "1",
    )
    assert done.returncode == 0, done.stderr
    metrics, _ = _results(run)
    assert metrics["episodes"] == 1 and metrics["train_episodes"] == 1
    learned = json.loads((run / "tips.json").read_text())
    assert learned == {"trajectories/global": ["> inventory"]}


def test_expert_distils_walkthroughs_into_level_tips(tw_suite: Path, tmp_path: Path) -> None:
    train = _subset(tw_suite, tmp_path, [1], "train")
    test = _subset(tw_suite, tmp_path, [1, 2], "test")
    tips = ["Read the cookbook, then take and prepare what it lists."]
    script = _script(tmp_path / "script.json", [{"tips": tips}, "inventory", "inventory"])
    run = tmp_path / "run"
    done = _scripted_eval(
        script,
        run,
        "--games",
        str(test),
        "--train-games",
        str(train),
        "--setting",
        "expert",
        "--method",
        "tips",
        "--trials",
        "1",
        "--max-steps",
        "1",
    )
    assert done.returncode == 0, done.stderr
    # tips learned from the walkthroughs go to level 1; the level-2 game falls back to every level's tips
    learned = json.loads((run / "tips.json").read_text())
    assert learned["tips/level/1"] == tips
    assert [e["guidance"] for e in _final_state(run)["episodes"]] == [tips, tips]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--setting", "cross"], "needs --train-games"),
        (["--setting", "expert", "--method", "reflexion", "--train-games", "{suite}"], "reflexion reflects"),
        (["--method", "oracle"], "not one of"),
        (["--trials", "0"], "at least 1"),
        (["--max-tips", "0"], "max_tips"),
    ],
)
def test_bad_options_get_a_clear_error(tw_suite: Path, tmp_path: Path, args: list[str], message: str) -> None:
    done = _cli(
        "eval",
        "tips",
        "--games",
        str(tw_suite),
        *[a.format(suite=tw_suite) for a in args],
        "--out",
        str(tmp_path / "run"),
    )
    assert done.returncode == 1 and message in done.stderr and "Traceback" not in done.stderr


def test_a_corrupt_or_incomplete_game_gets_a_clear_error(tw_suite: Path, tmp_path: Path) -> None:
    corrupt = tmp_path / "broken.z8"
    corrupt.write_bytes(b"not a story file" * 100)
    (tmp_path / "broken.json").write_text((tw_suite / "L1-train-000.json").read_text())
    done = _cli("eval", "tips", "--games", str(corrupt), "--method", "random", "--out", str(tmp_path / "a"))
    assert done.returncode == 1 and "not a playable TextWorld game" in done.stderr and "Traceback" not in done.stderr
    lonely = tmp_path / "lonely.z8"
    lonely.write_bytes((tw_suite / "L1-train-000.z8").read_bytes())
    done = _cli("play", str(lonely))
    assert done.returncode == 1 and "lonely.json is missing" in done.stderr


def test_a_person_plays_a_game_to_the_end_in_the_terminal(tw_suite: Path) -> None:
    game = tw_suite / "L1-train-000.z8"
    walkthrough = _walkthrough(game)
    done = _cli("play", str(game), stdin="/commands\n/tips\n/nonsense\n" + "\n".join(walkthrough) + "\n")
    assert done.returncode == 0, done.stderr
    assert "examine cookbook" in done.stdout and "unknown command '/nonsense'" in done.stdout
    assert "no tips" in done.stdout and "You won! Score 4 of 4" in done.stdout
    assert done.stdout.count("Let's cook a delicious meal") == 1  # the game's intro, shown once
    assert "/hint" in _cli("play", str(game), stdin="/help\n/quit\n").stdout


@pytest.mark.slow
def test_own_with_the_embedded_model_plays_two_trials_on_two_games(
    tw_suite: Path, tmp_path: Path, model_home: Path
) -> None:
    games = _subset(tw_suite, tmp_path, [1, 2], "small")
    run = tmp_path / "run"
    done = _cli(
        "eval",
        "tips",
        "--games",
        str(games),
        "--method",
        "tips",
        "--trials",
        "2",
        "--max-steps",
        "4",
        "--out",
        str(run),
        home=model_home,
    )
    assert done.returncode == 0, done.stderr
    metrics, steps = _results(run)
    usage = json.loads((run / "usage.json").read_text())
    assert metrics["episodes"] == 4 and len(steps) == 16
    assert metrics["llm_calls"] == usage["total"]["calls"] + usage["total"]["cache_hits"]
    actor, introspector = usage["by_role"]["actor"], usage["by_role"]["introspector"]
    # One actor call per step (a choice: its scores are valid at the first try), cache hits included: trial 2
    # repeats trial 1's prompts wherever the tips did not change. Two introspections (after trial 1 only),
    # each tried at most three times when the model's tips do not fit the schema.
    assert actor["calls"] + actor["cache_hits"] == 16
    assert 2 <= introspector["calls"] + introspector["cache_hits"] <= 6
    assert all(s["admissible"] for s in steps)  # a choice among the admissible commands
    learned = json.loads((run / "tips.json").read_text())
    assert set(learned) <= {"tips/game/L1-train-000", "tips/game/L2-train-000"}


def test_a_sweep_runs_eval_tips_cells(tw_suite: Path, tmp_path: Path) -> None:
    import csv

    sweep = tmp_path / "sweep.toml"
    sweep.write_text(
        f'command = "eval tips"\n[options]\ngames = "{tw_suite}"\ntrials = 1\n'
        '[grid]\nmethod = ["random", "walkthrough"]\n'
    )
    done = _cli("sweep", str(sweep), "--out", str(tmp_path / "out"), "--workers", "2")
    assert done.returncode == 0, done.stderr
    with (tmp_path / "out" / "results.csv").open() as handle:
        rows = {row["cell"]: row for row in csv.DictReader(handle)}
    assert (
        rows["method_walkthrough"]["status"] == "completed" and float(rows["method_walkthrough"]["success_rate"]) == 1
    )
    assert float(rows["method_random"]["normalized_score"]) < 1


def _chat_turn(sessions: Any, session: str, text: str) -> tuple[str, list[dict[str, str]]]:
    events = list(sessions.turn(session, "tips", text))
    reply = "".join(e["text"] for kind, e in events if kind in ("message", "token"))
    return reply, [e for kind, e in events if kind == "step"]


def test_the_tips_team_plays_a_game_in_chat_learns_tips_and_keeps_them_to_its_session(
    tw_suite: Path, tmp_path: Path
) -> None:
    from retinue.envs.textworld_suite import load_games
    from retinue.scenarios.chat_sessions import ChatSessions
    from tests.conftest import HashEmbeddings

    games = _subset(tw_suite, tmp_path, [1], "chat-games")
    entries = {e.id: e for e in load_games(games)}
    walkthrough = _walkthrough(games / "L1-train-000.z8")
    learned = ["Read the cookbook first.", "Prepare the meal only when every ingredient is ready."]
    usage = UsageRecorder()
    model = ScriptedChatModel(
        responses=[{"why": "The recipe says what to do."}, "examine cookbook", {"tips": learned}],
        callbacks=[usage],
    )

    def open_sessions() -> ChatSessions:
        return ChatSessions(
            tmp_path / "chat",
            model,
            usage,
            LLMConfig(cache=False),
            None,
            embed=HashEmbeddings(64),
            load_tips=lambda: (games, entries),
        )

    with open_sessions() as sessions:
        reply, _ = _chat_turn(sessions, "a", "open fridge")
        assert "new game" in reply  # no game yet: how to start one
        reply, _ = _chat_turn(sessions, "a", "new game")
        assert reply.startswith("Game L1-train-000 (level 1, 4 points") and "cookbook" in reply
        reply, steps = _chat_turn(sessions, "a", "hint")
        assert "I would type: examine cookbook" in reply and steps[0]["agent"] == "actor"
        for command in walkthrough[:3]:
            reply, _ = _chat_turn(sessions, "a", command)
    with open_sessions() as sessions:  # closed and reopened: the game goes on where it stopped
        for command in walkthrough[3:]:
            reply, steps = _chat_turn(sessions, "a", command)
        assert "You won! Score 4 of 4" in reply and "Read the cookbook first." in reply
        assert steps[-1] == {"agent": "introspector", "text": "2 tips written"}
        assert _chat_turn(sessions, "a", "tips")[0] == "\n".join(f"- {t}" for t in learned)
        assert _chat_turn(sessions, "b", "tips")[0].startswith("No tips yet")  # another session learned nothing
    model.assert_all_used()


def test_a_stopped_evaluation_resumes_mid_episode_by_replaying_the_game(tw_suite: Path, tmp_path: Path) -> None:
    games = _subset(tw_suite, tmp_path, [1], "l1")
    walkthrough = _walkthrough(games / "L1-train-000.z8")
    script = _script(tmp_path / "script.json", walkthrough[:3])
    run = tmp_path / "run"
    stopped = _scripted_eval(
        script, run, "--games", str(games), "--method", "none", "--trials", "1", "--max-steps", "6"
    )
    assert stopped.returncode == 1 and "--resume" in stopped.stderr and "Traceback" not in stopped.stderr
    assert not (run / "metrics.json").exists()
    _script(script, walkthrough[3:6])  # the rest of the episode
    resumed = _cli("eval", "tips", "--resume", str(run))
    assert resumed.returncode == 0, resumed.stderr
    metrics, steps = _results(run)
    assert [s["command"] for s in steps] == walkthrough[:6]
    # The game was replayed to step 3 before step 4: the later commands scored as in one uninterrupted play.
    played = TextWorldEnv(games / "L1-train-000.z8")
    played.reset()
    scores = [played.step(c)[0].score for c in walkthrough[:6]]
    played.close()
    assert [s["score"] for s in steps] == scores and scores[-1] > 0
    assert metrics["normalized_score"] == scores[-1] / 4
