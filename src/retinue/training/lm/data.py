"""Text from JSONL files, tokenised and packed into fixed-length blocks for language-model training.

Documents are joined with BOS ... EOS around each, the stream is cut into blocks of `seq + 1` tokens
(inputs and their next tokens), and the last partial block is dropped; for Gemma, which needs BOS first,
every block is BOS and `seq` tokens of the stream. Splits are seeded and by document, so no held-out
document shares a block with training.
"""

import random
from collections.abc import Sequence
from pathlib import Path

import torch

from retinue.errors import RetinueError
from retinue.jsonfiles import read_jsonl
from retinue.training.lm.tokenizer import BYTES, Tokenizer


def read_texts(path: Path, field: str = "text", split: str | None = None) -> list[str]:
    """The `field` of every line (of the given `split` field value, when asked)."""
    texts = []
    for number, record in read_jsonl(path, str(path)):
        if split is not None and record.get("split") != split:
            continue
        text = record.get(field)
        if not isinstance(text, str):
            raise RetinueError(f"{path} line {number}: no text field {field!r}")
        texts.append(text)
    if not texts:
        raise RetinueError(f"{path}: no texts" + (f" in split {split!r}" if split else ""))
    return texts


def split_documents(texts: Sequence[str], held_out: float, seed: int) -> tuple[list[str], list[str]]:
    """(train, held-out) by document, seeded."""
    order = list(range(len(texts)))
    random.Random(seed).shuffle(order)
    cut = max(1, round(len(texts) * held_out))
    return [texts[i] for i in order[cut:]], [texts[i] for i in order[:cut]]


def pack(texts: Sequence[str], seq: int, max_blocks: int | None = None, tokenizer: Tokenizer = BYTES) -> torch.Tensor:
    """Blocks (n, seq + 1) of the documents' tokens, back to back. For a tokenizer whose sequences must open
    with BOS, every block is BOS and then `seq` tokens of the stream, where documents end with EOS."""
    stream: list[int] = []
    width = seq if tokenizer.bos_first else seq + 1  # stream tokens per block
    limit = None if max_blocks is None else max_blocks * width
    for text in texts:
        stream += [*([] if tokenizer.bos_first else [tokenizer.bos]), *tokenizer.encode(text), tokenizer.eos]
        if limit is not None and len(stream) >= limit:
            break
    count = len(stream) // width
    if max_blocks is not None:
        count = min(count, max_blocks)
    if count == 0:
        raise RetinueError(f"too little text for one block of {seq + 1} tokens")
    blocks = torch.tensor(stream[: count * width]).view(count, width)
    if tokenizer.bos_first:
        blocks = torch.cat([torch.full((count, 1), tokenizer.bos), blocks], dim=1)
    return blocks
