"""Tips, reflections and trajectories are stored, merged and retrieved by namespace."""

from langgraph.store.memory import InMemoryStore

from retinue.agents.tips import notes
from retinue.agents.tips.episodes import plan_episodes
from retinue.agents.tips.introspector import trajectory_text
from retinue.agents.tips.state import StepRecord
from retinue.memory import namespaces


def test_replace_makes_the_merged_tips_the_whole_namespace() -> None:
    store = InMemoryStore()
    scope = namespaces.tips_game("tips", "g1")
    notes.replace(store, scope, ["open the fridge first", "read the cookbook"])
    notes.replace(store, scope, ["read the cookbook before cooking"])
    assert notes.read(store, scope) == ["read the cookbook before cooking"]


def test_append_keeps_the_most_recent_in_order() -> None:
    store = InMemoryStore()
    scope = namespaces.tips_game("reflections", "g1")
    for n in range(5):
        notes.append(store, scope, f"reflection {n}", keep=3)
    assert notes.read(store, scope) == ["reflection 2", "reflection 3", "reflection 4"]


def test_a_game_reads_its_own_its_levels_and_the_global_notes_but_no_other_games() -> None:
    store = InMemoryStore()
    notes.replace(store, namespaces.tips_game("tips", "g1"), ["own tip"])
    notes.replace(store, namespaces.tips_game("tips", "g2"), ["another game's tip"])
    notes.replace(store, namespaces.tips_level("tips", 1), ["level one tip"])
    notes.replace(store, namespaces.tips_level("tips", 2), ["level two tip"])
    notes.replace(store, namespaces.tips_global("tips"), ["global tip", "own tip"])
    assert notes.for_game(store, "tips", "g1", 1) == ["own tip", "level one tip", "global tip"]
    # A level nobody learned about falls back to every level's notes.
    assert notes.for_game(store, "tips", "g3", 4) == ["level one tip", "level two tip", "global tip", "own tip"]
    assert notes.for_game(store, "reflections", "g1", 1) == []


def test_own_learns_between_trials_and_cross_tests_once_after_training() -> None:
    own = plan_episodes("own", ["a", "b"], [], 2)
    assert [(p["game"], p["trial"], p["phase"], p["learn"]) for p in own] == [
        ("a", 1, "eval", True),
        ("b", 1, "eval", True),
        ("a", 2, "eval", False),
        ("b", 2, "eval", False),
    ]
    cross = plan_episodes("cross", ["t"], ["a"], 2)
    assert [(p["game"], p["trial"], p["phase"], p["learn"]) for p in cross] == [
        ("a", 1, "train", True),
        ("a", 2, "train", True),
        ("t", 1, "eval", False),
    ]


def test_trajectory_text_marks_score_gains_and_elides_early_steps() -> None:
    steps = [
        StepRecord(
            step=i,
            command=f"c{i}",
            observation=f"said {i}\nmore",
            score=i // 2,
            reward=float(i % 2),
            admissible=True,
            fallback=False,
        )
        for i in range(1, 5)
    ]
    assert trajectory_text(steps, 3) == "(... 1 earlier steps)\n> c2: said 2\n> c3: said 3 (+1)\n> c4: said 4"
    assert trajectory_text(steps, 10, feedback=False).splitlines()[0] == "> c1 (+1)"
