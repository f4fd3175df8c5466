"""Tokenizers of the small-LM toolkit. `Tokenizer` is what packing, evaluation and generation need; the tiny
decoder uses `BYTES`, a byte-level tokenizer (every UTF-8 byte is a token, plus BOS and EOS) that needs no
training, covers any text (Italian accents included) and keeps a tiny model's vocabulary at 258. Gemma 3
brings its own (`retinue.training.lm.gemma`)."""

from typing import Protocol

BOS, EOS = 256, 257
VOCAB_SIZE = 258


class Tokenizer(Protocol):
    bos: int
    eos: int
    bos_first: bool  # every sequence must open with BOS (Gemma: its attention leans on it)

    def encode(self, text: str) -> list[int]: ...

    def decode(self, tokens: list[int]) -> str: ...


class ByteTokenizer:
    bos, eos = BOS, EOS
    bos_first = False

    def encode(self, text: str) -> list[int]:
        return list(text.encode("utf-8"))

    def decode(self, tokens: list[int]) -> str:
        return bytes(t for t in tokens if t < 256).decode("utf-8", errors="replace")


BYTES = ByteTokenizer()
