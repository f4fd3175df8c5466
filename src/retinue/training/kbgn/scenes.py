"""Procedural visual dialogues: rendered scenes of simple objects, a caption and templated rounds whose
answers need both the picture and the history.

A scene is a 64x64 RGB picture of 3 to 5 objects (shape, colour, size) in distinct cells of a 3x3 grid.
The caption names one object. Each later round asks about "it": the object the previous round was
about, or a newly named one, so a question like "what colour is it?" is answerable only by resolving
"it" in the history and then looking at the picture. Every round has 100 distinct candidate answers;
the ground truth's relevance is 1, the same atomic answer in another phrasing 0.5, anything else 0.
"""

import random
from dataclasses import dataclass, field

import numpy as np

SIZE = 64
SHAPES = ("circle", "square", "triangle")
COLOURS = {"red": (220, 40, 40), "green": (40, 180, 60), "blue": (50, 80, 220), "yellow": (230, 210, 40)}
SIZES = {"small": 5, "large": 9}  # half-widths in pixels: a large object stays inside its 21-pixel cell
COLUMNS = ("left", "middle", "right")
ROWS = ("top", "centre", "bottom")
NUMBERS = ("zero", "one", "two", "three", "four", "five")
ROUNDS = 6
CANDIDATES = 100


@dataclass(frozen=True)
class SceneObject:
    shape: str
    colour: str
    size: str
    column: int
    row: int

    @property
    def place(self) -> str:
        return f"{ROWS[self.row]} {COLUMNS[self.column]}"

    def box(self) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1) in pixels, end-exclusive."""
        cx, cy, half = _centre(self.column), _centre(self.row), SIZES[self.size]
        return cx - half, cy - half, cx + half + 1, cy + half + 1


@dataclass
class Round:
    question: str
    answer: str  # the ground truth's phrasing
    atomic: str  # what the answer says, whatever the phrasing
    candidates: list[str] = field(default_factory=list)
    relevance: list[float] = field(default_factory=list)

    @property
    def gt_index(self) -> int:
        return self.candidates.index(self.answer)


@dataclass
class Dialog:
    objects: list[SceneObject]
    caption: str
    rounds: list[Round]


def _centre(cell: int) -> int:
    return int(SIZE * (2 * cell + 1) / 6)


def render(objects: list[SceneObject]) -> np.ndarray:
    """The scene as uint8 RGB (SIZE, SIZE, 3) on a light grey background."""
    picture = np.full((SIZE, SIZE, 3), 235, dtype=np.uint8)
    ys, xs = np.mgrid[0:SIZE, 0:SIZE]
    for obj in objects:
        cx, cy, half = _centre(obj.column), _centre(obj.row), SIZES[obj.size]
        if obj.shape == "circle":
            mask = (xs - cx) ** 2 + (ys - cy) ** 2 <= half**2
        elif obj.shape == "square":
            mask = (abs(xs - cx) <= half) & (abs(ys - cy) <= half)
        else:  # an upward triangle inside the box
            mask = (ys >= cy - half) & (ys <= cy + half) & (abs(xs - cx) <= (ys - (cy - half)) / 2)
        picture[mask] = COLOURS[obj.colour]
    return picture


# Each question kind: (question template, phrasings of the answer, the ground truth's phrasing index).
PHRASINGS = {
    "colour": ("it is {}", "{}", "it looks {}", "{} i think"),
    "shape": ("a {}", "it is a {}", "{}", "looks like a {}"),
    "size": ("it is {}", "{}", "quite {}", "{} i think"),
    "place": ("in the {}", "{}", "it is in the {}", "at the {}"),
    "count": ("{}", "there are {}", "i see {}", "{} of them"),
    "yesno": ("{}", "{} it is", "{} i think", "i think {}"),
}


def _answer_pool() -> list[tuple[str, str]]:
    """Every (phrasing, atomic answer) a round can have."""
    atoms = {
        "colour": list(COLOURS),
        "shape": list(SHAPES),
        "size": list(SIZES),
        "place": [f"{r} {c}" for r in ROWS for c in COLUMNS],
        "count": list(NUMBERS),
        "yesno": ["yes", "no"],
    }
    return [(form.format(atom), atom) for kind, forms in PHRASINGS.items() for atom in atoms[kind] for form in forms]


ANSWER_POOL = _answer_pool()


def _describe(obj: SceneObject) -> str:
    return f"{obj.size} {obj.colour} {obj.shape}"


def _ask(kind: str, subject: SceneObject, objects: list[SceneObject], draw: random.Random) -> tuple[str, str]:
    """A question about `subject` ("it") or the scene, and its atomic answer."""
    if kind == "colour":
        return "what colour is it?", subject.colour
    if kind == "shape":
        return "what shape is it?", subject.shape
    if kind == "size":
        return "how big is it?", subject.size
    if kind == "place":
        return "where is it?", subject.place
    if kind == "count":
        colour = draw.choice(list(COLOURS))
        return f"how many {colour} things are there?", NUMBERS[sum(o.colour == colour for o in objects)]
    colour = draw.choice(list(COLOURS))
    return f"is it {colour}?", "yes" if subject.colour == colour else "no"


def make_dialog(draw: random.Random) -> Dialog:
    """One scene with its caption and ROUNDS rounds; every 100-candidate list holds the ground truth."""
    cells = draw.sample(range(9), draw.randint(3, 5))
    objects = [
        SceneObject(draw.choice(SHAPES), draw.choice(list(COLOURS)), draw.choice(list(SIZES)), cell % 3, cell // 3)
        for cell in cells
    ]
    subject = objects[0]
    caption = f"a {_describe(subject)} and {len(objects) - 1} other things"
    rounds = []
    for _ in range(ROUNDS):
        if draw.random() < 0.3:  # move the conversation to another object, named by where it is
            subject = draw.choice(objects)
            kind = draw.choice(("colour", "shape", "size"))
            question, atomic = _ask(kind, subject, objects, draw)
            question = question.replace(" it", f" the thing in the {subject.place}")
        else:
            kind = draw.choice(tuple(PHRASINGS))
            question, atomic = _ask(kind, subject, objects, draw)
        answer = PHRASINGS[kind][0].format(atomic)
        rounds.append(_with_candidates(Round(question, answer, atomic), draw))
    return Dialog(objects, caption, rounds)


def _with_candidates(round_: Round, draw: random.Random) -> Round:
    others = [pair for pair in ANSWER_POOL if pair[0] != round_.answer]
    chosen = [(round_.answer, round_.atomic), *draw.sample(others, CANDIDATES - 1)]
    draw.shuffle(chosen)
    round_.candidates = [text for text, _ in chosen]
    round_.relevance = [
        1.0 if text == round_.answer else 0.5 if atom == round_.atomic else 0.0 for text, atom in chosen
    ]
    return round_


def make_dialogs(count: int, seed: int) -> list[Dialog]:
    draw = random.Random(seed)
    return [make_dialog(draw) for _ in range(count)]
