"""TextWorld games behind the `Env` protocol: one command per step, a step limit, clean observations.

`TextWorldEnv` wraps `textworld.start` with the `EnvInfos` the agents need (admissible commands,
objective, the room's description, the inventory, score, max score, win/lose, walkthrough). Rewards are
score gains; an episode ends when the game is won or lost or the step limit is reached. Observations drop
TextWorld's ASCII-art banner.
"""

import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from retinue.errors import RetinueError

DEFAULT_STEP_LIMIT = 50
# The ASCII-art banner, the ">" prompt, and the prompt line with the status bar ("> ... -= Kitchen =-0/2").
_BANNER_LINE = re.compile(r"^[\s$|\\/_>]*$|\$\$|^>\s+-=.*=-\s*\d+/\d+\s*$")


@dataclass(frozen=True)
class GameObservation:
    """What the player sees after a reset or a step: the game's answer (`text`), and where it is and what
    it carries without spending a move on "look" or "inventory"."""

    text: str
    admissible: list[str]
    objective: str
    score: int
    max_score: int
    moves: int
    won: bool
    lost: bool
    description: str = ""
    inventory: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def clean_text(text: str) -> str:
    """The game's text without its banner and prompt, and with runs of blank lines collapsed."""
    lines = [line.rstrip() for line in text.splitlines() if not (_BANNER_LINE.search(line) and line.strip())]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def check_game_file(path: Path) -> None:
    """Raise a clear error unless `path` is a compiled game with its .json beside it."""
    if not path.is_file():
        raise RetinueError(f"{path}: no such game file")
    if path.suffix not in (".z8", ".ulx"):
        raise RetinueError(f"{path}: not a TextWorld game (expected a .z8 or .ulx file)")
    if not path.with_suffix(".json").is_file():
        raise RetinueError(f"{path}: its {path.with_suffix('.json').name} is missing (keep it beside the game)")
    if path.suffix == ".z8":
        _check_z8_header(path)


def _check_z8_header(path: Path) -> None:
    """Jericho's interpreter exits the whole process on a bad story file, so look at its header first:
    byte 0 is the Z-machine version (8), bytes 0x1A-0x1B the file length in units of 8 bytes."""
    with path.open("rb") as story:
        header = story.read(64)
    size = path.stat().st_size
    declared = int.from_bytes(header[0x1A:0x1C], "big") * 8 if len(header) == 64 else 0
    if len(header) < 64 or header[0] != 8 or not 64 < declared <= size:
        raise RetinueError(f"{path}: not a playable TextWorld game (not a complete Z-machine version 8 story file)")


@contextmanager
def _jericho_quiet() -> Iterator[None]:
    """Jericho warns that it cannot detect scores in TextWorld's games; TextWorld keeps the score itself
    (and ignores the warning too, but only until a caller's own warning filters say otherwise)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*is not fully supported")
        yield


def request_infos(oracle: bool = False) -> Any:
    """The `textworld.EnvInfos` every game is started with; with `oracle`, also the optimal commands from
    each state (for labelling training data; an agent never sees them)."""
    import textworld

    return textworld.EnvInfos(
        policy_commands=oracle,
        admissible_commands=True,
        objective=True,
        description=True,
        inventory=True,
        score=True,
        max_score=True,
        won=True,
        lost=True,
        moves=True,
        feedback=True,
        extras=["walkthrough"],
    )


class TextWorldEnv:
    """One game. `reset()` starts it, `step(command)` plays one command; see the module doc."""

    def __init__(self, path: Path, step_limit: int = DEFAULT_STEP_LIMIT, oracle: bool = False) -> None:
        """`oracle`: keep TextWorld's optimal commands from each state in `policy` (training labels only)."""
        import textworld

        check_game_file(path)
        if step_limit < 1:
            raise RetinueError("the step limit must be at least 1")
        self.path = path
        self.step_limit = step_limit
        self.walkthrough: list[str] = []
        self.policy: list[str] = []
        self._steps = 0
        self._score = 0
        try:
            with _jericho_quiet():
                self._env = textworld.start(str(path), request_infos=request_infos(oracle))
        except Exception as error:  # textworld and jericho raise many types for a bad file
            raise RetinueError(f"{path}: not a playable TextWorld game ({type(error).__name__}: {error})") from None

    def reset(self) -> GameObservation:
        try:
            with _jericho_quiet():
                state = self._env.reset()
        except Exception as error:
            raise RetinueError(f"{self.path}: the game does not start ({type(error).__name__}: {error})") from None
        self.walkthrough = list(state.get("extra.walkthrough") or [])
        self._steps = 0
        self._score = 0
        return self._observation(state)

    def replay(self, commands: list[str]) -> GameObservation:
        """Start the game again and play `commands`; the observation after the last one."""
        seen = self.reset()
        for command in commands:
            seen, _, _, _ = self.step(command)
        return seen

    def step(self, command: str) -> tuple[GameObservation, float, bool, dict[str, Any]]:
        """Play `command`; reward is the score gained. `info["admissible"]` says whether it was admissible."""
        admissible = command in self._admissible
        state, score, done = self._env.step(command)
        self._steps += 1
        observation = self._observation(state)
        reward = float(observation.score - self._score)
        self._score = observation.score
        truncated = self._steps >= self.step_limit and not done
        return observation, reward, bool(done) or truncated, {"admissible": admissible, "truncated": truncated}

    @property
    def steps(self) -> int:
        return self._steps

    def close(self) -> None:
        self._env.close()

    def _observation(self, state: Any) -> GameObservation:
        self._admissible = list(state.get("admissible_commands") or [])
        self.policy = list(state.get("policy_commands") or [])
        return GameObservation(
            text=clean_text(str(state.get("feedback") or "")),
            admissible=self._admissible,
            objective=str(state.get("objective") or ""),
            score=int(state.get("score") or 0),
            max_score=int(state.get("max_score") or 0),
            moves=int(state.get("moves") or 0),
            won=bool(state.get("won")),
            lost=bool(state.get("lost")),
            description=clean_text(str(state.get("description") or "")),
            inventory=clean_text(str(state.get("inventory") or "")),
        )


EpisodeKey = tuple[str, int, str]  # game, trial, phase: which episode a running game belongs to


@dataclass
class LiveGames:
    """The games being played, by game id: a TextWorld process is not part of a checkpoint, so a resumed
    run starts the game again and replays the episode's commands (TextWorld games are deterministic)."""

    envs: dict[str, tuple[EpisodeKey, TextWorldEnv]] = field(default_factory=dict)

    def start(self, key: EpisodeKey, path: Path, step_limit: int) -> tuple[TextWorldEnv, GameObservation]:
        self.stop(key[0])
        env = TextWorldEnv(path, step_limit)
        first = env.reset()
        self.envs[key[0]] = (key, env)
        return env, first

    def at(self, key: EpisodeKey, path: Path, step_limit: int, commands: list[str]) -> TextWorldEnv:
        """The episode's game after `commands`, replayed if it is not the one running."""
        running = self.envs.get(key[0])
        if running is not None and running[0] == key and running[1].steps == len(commands):
            return running[1]
        env, _ = self.start(key, path, step_limit)
        env.replay(commands)
        return env

    def stop(self, game: str) -> None:
        running = self.envs.pop(game, None)
        if running is not None:
            running[1].close()

    def close(self) -> None:
        for game in list(self.envs):
            self.stop(game)
