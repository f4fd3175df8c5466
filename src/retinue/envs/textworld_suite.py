"""Generated TextWorld cooking games at the GATA difficulty levels, and the manifest that describes them.

`make_games` runs `tw-make tw-cooking` (offline; TextWorld ships its Inform 7 compiler) once per game with
the level's flags, a seed per game and the same seed for the recipe, and keeps the `.json` beside each
`.z8`. `manifest.json` records each game's level, split, seed, max score, walkthrough length and a
SHA-256 fingerprint of its files; it is rewritten after every game, so an interrupted `games make`
continues where it stopped and a rerun regenerates nothing whose fingerprint still matches.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from retinue.envs.textworld import DEFAULT_STEP_LIMIT, TextWorldEnv, check_game_file
from retinue.errors import RetinueError
from retinue.jsonfiles import read_json

MANIFEST = "manifest.json"
SPLITS = ("train", "valid", "test")


@dataclass(frozen=True)
class Level:
    """A GATA difficulty level: its tw-make flags and the step limit an episode gets."""

    number: int
    flags: tuple[str, ...]
    step_limit: int


LEVELS = {
    1: Level(1, ("--recipe", "1", "--take", "1", "--open", "--cut"), DEFAULT_STEP_LIMIT),
    2: Level(2, ("--recipe", "1", "--take", "1", "--open", "--cook", "--cut"), DEFAULT_STEP_LIMIT),
    3: Level(3, ("--recipe", "1", "--take", "1", "--open", "--go", "9"), DEFAULT_STEP_LIMIT),
    4: Level(4, ("--recipe", "3", "--take", "3", "--open", "--go", "6", "--cook", "--cut"), DEFAULT_STEP_LIMIT),
    5: Level(5, ("--recipe", "3", "--take", "3", "--open", "--go", "12", "--cook", "--cut"), 100),
}


@dataclass(frozen=True)
class GameEntry:
    """One game of a suite, as the manifest records it."""

    id: str
    file: str
    level: int | None
    split: str | None
    seed: int | None
    max_score: int
    walkthrough_steps: int
    fingerprint: str
    step_limit: int = DEFAULT_STEP_LIMIT

    def path(self, suite: Path) -> Path:
        return suite / self.file


GAMES_PER_LEVEL = 1_000  # most games a level can have: each game's seed is then distinct
# TextWorld seeds are 32-bit: the largest base seed whose games' seeds all fit.
MAX_SEED = (2**32 - 1 - max(LEVELS) * GAMES_PER_LEVEL - (GAMES_PER_LEVEL - 1)) // 100_000


def game_seed(base: int, level: int, index: int) -> int:
    """Each game's seed: distinct across base seeds, levels and indices (`check_request` keeps them in
    range). Suites made before this check keep their games: the formula is unchanged."""
    return base * 100_000 + level * GAMES_PER_LEVEL + index


def parse_levels(text: str, option: str = "--levels") -> list[int]:
    """ "1,2,3" -> [1, 2, 3], with an error naming `option` and anything in it that is not a level."""
    levels = []
    for part in (p.strip() for p in text.split(",")):
        if not part.isdigit() or int(part) not in LEVELS:
            raise RetinueError(f"{option}: {part!r} is not a level (choose from {', '.join(map(str, LEVELS))})")
        levels.append(int(part))
    return list(dict.fromkeys(levels))


def fingerprint(game: Path) -> str:
    """SHA-256 of the compiled game and its .json."""
    digest = hashlib.sha256()
    for part in (game, game.with_suffix(".json")):
        digest.update(part.read_bytes())
    return digest.hexdigest()


def tw_make() -> list[str]:
    """The tw-make command of the running Python's environment."""
    beside = Path(sys.executable).parent / "tw-make"
    found = str(beside) if beside.exists() else shutil.which("tw-make")
    if found is None:
        raise RetinueError("tw-make was not found: install textworld (pip install textworld) in this environment")
    return [sys.executable, found]


def check_request(split: str, count: int, out: Path, seed: int = 0) -> None:
    """Raise a clear error unless `split` is tw-cooking's, `count` in 1..1000, `seed` in 0..MAX_SEED and
    `out` a folder or new (before any work starts)."""
    if split not in SPLITS:
        raise RetinueError(f"--split: {split!r} is not one of {', '.join(SPLITS)}")
    if not 1 <= count <= GAMES_PER_LEVEL:
        raise RetinueError(f"--count must be between 1 and {GAMES_PER_LEVEL}, not {count}")
    if not 0 <= seed <= MAX_SEED:
        raise RetinueError(f"--seed must be between 0 and {MAX_SEED} (the games' seeds are 32-bit), not {seed}")
    if out.exists() and not out.is_dir():
        raise RetinueError(f"--out: {out} is a file, not a folder for the games")


def make_games(
    levels: Sequence[int],
    split: str,
    count: int,
    seed: int,
    out: Path,
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
) -> list[GameEntry]:
    """Generate `count` games per level into `out` (see the module doc); returns the whole manifest."""
    check_request(split, count, out, seed)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RetinueError(f"--out: cannot make the games folder {out}: {error.strerror}") from None
    entries = {e.id: e for e in load_manifest(out, missing_ok=True)}
    wanted = [(level, i) for level in levels for i in range(count)]
    todo = [(level, i) for level, i in wanted if not _still_valid(entries.get(_game_id(level, split, i)), out)]
    done = len(wanted) - len(todo)
    if progress:
        progress(done, len(wanted))
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        # Only tw-make runs in the threads: reading a game (jericho) is not thread-safe.
        futures = {
            pool.submit(_compile, LEVELS[level], split, i, game_seed(seed, level, i), out): (level, i)
            for level, i in todo
        }
        for future in as_completed(futures):
            level, i = futures[future]
            game = future.result()
            entry = _describe(game, game.name, LEVELS[level], split, game_seed(seed, level, i))
            entries[entry.id] = entry
            _write_manifest(out, entries.values())
            done += 1
            if progress:
                progress(done, len(wanted))
    _write_manifest(out, entries.values())
    return sorted(entries.values(), key=lambda e: e.id)


def _game_id(level: int, split: str, index: int) -> str:
    return f"L{level}-{split}-{index:03d}"


def _still_valid(entry: GameEntry | None, out: Path) -> bool:
    if entry is None:
        return False
    game = entry.path(out)
    return game.is_file() and game.with_suffix(".json").is_file() and fingerprint(game) == entry.fingerprint


def _compile(level: Level, split: str, index: int, seed: int, out: Path) -> Path:
    game_id = _game_id(level.number, split, index)
    target = out / f"{game_id}.z8"
    command = [*tw_make(), "tw-cooking", *level.flags, "--split", split, "--seed", str(seed)]
    command += ["--recipe-seed", str(seed), "--output", str(target), "-f", "--silent"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0 or not target.is_file():
        raise RetinueError(f"tw-make failed for {game_id} (seed {seed}): {(done.stderr or done.stdout).strip()[-500:]}")
    target.with_suffix(".ni").unlink(missing_ok=True)  # Inform 7 source, only needed to compile
    return target


def _describe(game: Path, file: str, level: Level | None, split: str | None, seed: int | None) -> GameEntry:
    """A game's manifest entry, its max score and walkthrough read from the game itself."""
    step_limit = level.step_limit if level else DEFAULT_STEP_LIMIT
    env = TextWorldEnv(game, step_limit)
    try:
        first = env.reset()
        walkthrough = env.walkthrough
    finally:
        env.close()
    return GameEntry(
        id=game.stem,
        file=file,
        level=level.number if level else None,
        split=split,
        seed=seed,
        max_score=first.max_score,
        walkthrough_steps=len(walkthrough),
        fingerprint=fingerprint(game),
        step_limit=step_limit,
    )


def _write_manifest(out: Path, entries: Any) -> None:
    games = [asdict(e) for e in sorted(entries, key=lambda e: e.id)]
    text = json.dumps({"games": games}, indent=2)
    temporary = out / f".{MANIFEST}.tmp"
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(out / MANIFEST)


def load_manifest(suite: Path, missing_ok: bool = False) -> list[GameEntry]:
    """The games of a suite folder, from its manifest."""
    path = suite / MANIFEST
    if not path.is_file():
        if missing_ok:
            return []
        raise RetinueError(f"{suite}: no {MANIFEST} (make games with `retinue games make --out {suite}`)")
    data = read_json(path, "games manifest")
    try:
        return [GameEntry(**game) for game in data["games"]]
    except (KeyError, TypeError) as error:
        raise RetinueError(f"{path}: not a games manifest ({error})") from None


def load_games(where: Path) -> list[GameEntry]:
    """The games to play: a suite folder (its manifest), or a single game file (level unknown)."""
    if where.is_dir():
        entries = load_manifest(where)
        for entry in entries:
            check_game_file(entry.path(where))
        if not entries:
            raise RetinueError(f"{where}: the manifest lists no games")
        return entries
    if not where.exists():
        raise RetinueError(f"{where}: no such games folder or game file")
    # An absolute `file` makes entry.path(anything) the game itself.
    return [_describe(where, str(where.resolve()), None, None, None)]
