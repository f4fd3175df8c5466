"""A byte-level tokenizer: every UTF-8 byte is a token, plus BOS and EOS. It needs no training, covers
any text (Italian accents included) and keeps a tiny model's vocabulary at 258."""

BOS, EOS = 256, 257
VOCAB_SIZE = 258


def encode(text: str) -> list[int]:
    return list(text.encode("utf-8"))


def decode(tokens: list[int]) -> str:
    return bytes(t for t in tokens if t < 256).decode("utf-8", errors="replace")
