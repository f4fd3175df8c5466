"""The generated visual-dialogue set on disk and as tensors.

```
DATA_DIR/
  dataset.json     vocabulary, the answer pool, sizes, seed
  train.npz        arrays (no pickles) of the training dialogs
  val.npz          the same for validation
  crop_encoder.pt  the region CNN (loaded with weights_only=True)
```

Per dialog: `regions` (MAX_REGIONS, REGION_DIM) and `region_mask`; `caption` tokens; per round the
`question` tokens, the `history` tokens (that round's question and answer, for later rounds' text
graph), the 100 `candidates` (indices into the answer pool), `gt_index` and `relevance`.
"""

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from retinue.errors import RetinueError
from retinue.jsonfiles import read_json
from retinue.training.kbgn.features import MAX_REGIONS, REGION_DIM, region_features, train_crop_encoder
from retinue.training.kbgn.scenes import ANSWER_POOL, CANDIDATES, Dialog, make_dialogs

PAD, UNKNOWN = 0, 1
MAX_WORDS = 12
SPLITS = ("train", "val")
ARRAYS = ("regions", "region_mask", "caption", "question", "history", "candidates", "gt_index", "relevance")


def words(text: str) -> list[str]:
    return text.lower().replace("?", " ?").split()


@dataclass(frozen=True)
class Vocabulary:
    words: list[str]

    @classmethod
    def build(cls, texts: Sequence[str]) -> "Vocabulary":
        return cls(["<pad>", "<unk>", *sorted({w for text in texts for w in words(text)})])

    @functools.cached_property
    def index(self) -> dict[str, int]:
        return {w: i for i, w in enumerate(self.words)}

    def encode(self, text: str, length: int = MAX_WORDS) -> np.ndarray:
        ids = [self.index.get(w, UNKNOWN) for w in words(text)][:length]
        return np.array(ids + [PAD] * (length - len(ids)), dtype=np.int64)


def _texts(dialogs: Sequence[Dialog]) -> list[str]:
    found = [text for text, _ in ANSWER_POOL]
    for dialog in dialogs:
        found += [dialog.caption, *(r.question for r in dialog.rounds)]
    return found


def to_arrays(dialogs: Sequence[Dialog], vocabulary: Vocabulary, encoder: Any) -> dict[str, np.ndarray]:
    pool = {text: i for i, (text, _) in enumerate(ANSWER_POOL)}
    regions, region_mask = region_features(encoder, dialogs)
    return {
        "regions": regions,
        "region_mask": region_mask,
        "caption": np.stack([vocabulary.encode(d.caption) for d in dialogs]),
        "question": np.stack([[vocabulary.encode(r.question) for r in d.rounds] for d in dialogs]),
        "history": np.stack([[vocabulary.encode(f"{r.question} {r.answer}") for r in d.rounds] for d in dialogs]),
        "candidates": np.array([[[pool[c] for c in r.candidates] for r in d.rounds] for d in dialogs]),
        "gt_index": np.array([[r.gt_index for r in d.rounds] for d in dialogs]),
        "relevance": np.array([[r.relevance for r in d.rounds] for d in dialogs], dtype=np.float32),
    }


def make_dataset(folder: Path, train: int, val: int, seed: int) -> dict[str, Any]:
    """Generate, featurise and save the set; returns what dataset.json records."""
    folder.mkdir(parents=True, exist_ok=True)
    train_dialogs, val_dialogs = make_dialogs(train, seed), make_dialogs(val, seed + 1)
    vocabulary = Vocabulary.build(_texts(train_dialogs))
    encoder = train_crop_encoder(train_dialogs, seed=seed)
    torch.save(encoder.state_dict(), folder / "crop_encoder.pt")
    for name, dialogs in (("train", train_dialogs), ("val", val_dialogs)):
        arrays = to_arrays(dialogs, vocabulary, encoder)
        np.savez_compressed(folder / f"{name}.npz", **arrays)  # type: ignore[arg-type]  # numpy stubs take ** as flags
    record = {
        "seed": seed,
        "dialogs": {"train": train, "val": val},
        "rounds": len(train_dialogs[0].rounds),
        "vocabulary": vocabulary.words,
        "answer_pool": [text for text, _ in ANSWER_POOL],
    }
    (folder / "dataset.json").write_text(json.dumps(record, indent=1), encoding="utf-8")
    return record


@dataclass
class VisDialSet:
    """One split as tensors, with the vocabulary and the answer pool's tokens."""

    tensors: dict[str, torch.Tensor]
    vocabulary: Vocabulary
    answers: list[str]  # every answer phrasing: what candidate indices point at
    pool: torch.Tensor  # (len(answers), MAX_WORDS) their token ids

    @property
    def dialogs(self) -> int:
        return int(self.tensors["caption"].shape[0])

    @property
    def rounds(self) -> int:
        return int(self.tensors["question"].shape[1])


def _how_to_make(folder: Path) -> str:
    return f"make one with `retinue train kbgn-data --out {folder}`"


def load_text_side(folder: Path) -> tuple[Vocabulary, list[str], torch.Tensor]:
    """A data set's vocabulary, answer phrasings and their token ids, from dataset.json alone."""
    missing = f"{folder} holds no KBGN data set; {_how_to_make(folder)}"
    record = read_json(folder / "dataset.json", "KBGN data", missing=missing)
    vocabulary = Vocabulary(list(record["vocabulary"]))
    answers = list(record["answer_pool"])
    return vocabulary, answers, torch.from_numpy(np.stack([vocabulary.encode(text) for text in answers]))


def load_split(folder: Path, split: str) -> VisDialSet:
    if split not in SPLITS:
        raise RetinueError(f"no split {split!r}; splits: {', '.join(SPLITS)}")
    vocabulary, answers, pool = load_text_side(folder)
    try:
        with np.load(folder / f"{split}.npz", allow_pickle=False) as arrays:
            tensors = {name: torch.from_numpy(arrays[name]) for name in ARRAYS}
    except (OSError, KeyError, ValueError) as error:
        raise RetinueError(
            f"{folder / f'{split}.npz'} is missing or damaged ({error}); {_how_to_make(folder)}"
        ) from None
    return VisDialSet(tensors, vocabulary, answers, pool)


def load_visdial(path: Path) -> VisDialSet:
    """Real VisDial v1.0 dialogs (JSON as released: questions, answers, dialogs with 100 answer options and
    gt_index per round), text only: no image features, so every scene has no regions. Relevance is 1 for
    the ground truth only (the dense annotations are not in the file)."""
    data = read_json(path, "VisDial file")
    try:
        body = data["data"]
        questions, answers, dialogs = body["questions"], body["answers"], body["dialogs"]
        rounds = [d["dialog"] for d in dialogs]
        vocabulary = Vocabulary.build([*questions, *answers, *(d["caption"] for d in dialogs)])
        count, length = len(dialogs), len(rounds[0])
        if any(len(r) != length for r in rounds):
            raise ValueError("dialogs of different lengths")
        history = [[vocabulary.encode(f"{questions[t['question']]} {answers[t['answer']]}") for t in r] for r in rounds]
        relevance = np.zeros((count, length, CANDIDATES), dtype=np.float32)
        gt = np.array([[t["gt_index"] for t in r] for r in rounds])
        np.put_along_axis(relevance, gt[..., None], 1.0, axis=2)
        arrays = {
            "regions": np.zeros((count, MAX_REGIONS, REGION_DIM), dtype=np.float32),
            "region_mask": np.zeros((count, MAX_REGIONS), dtype=bool),
            "caption": np.stack([vocabulary.encode(d["caption"]) for d in dialogs]),
            "question": np.array([[vocabulary.encode(questions[t["question"]]) for t in r] for r in rounds]),
            "history": np.array(history),
            "candidates": np.array([[t["answer_options"] for t in r] for r in rounds]),
            "gt_index": gt,
            "relevance": relevance,
        }
    except (KeyError, TypeError, ValueError, IndexError) as error:
        raise RetinueError(f"{path} is not a VisDial v1.0 dialog file: {type(error).__name__}: {error}") from None
    pool = torch.from_numpy(np.stack([vocabulary.encode(text) for text in answers]))
    return VisDialSet({k: torch.from_numpy(v) for k, v in arrays.items()}, vocabulary, list(answers), pool)
