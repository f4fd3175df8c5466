"""Transformer models to plan for: sizes, parameter counts and per-layer compute.

GPT-3 layers have 12 h^2 weights (attention 4 h^2, MLP 8 h^2); LLaMA layers 4 h^2 + 3 h f (SwiGLU
MLP of width f). Forward FLOPs per layer for b sequences of s tokens: 2 x weights x b s (the matrix
products) + 4 b s^2 h (attention scores and values); the backward pass costs twice the forward.
"""

from dataclasses import dataclass

from retinue.errors import RetinueError


@dataclass(frozen=True)
class ModelSpec:
    name: str
    layers: int
    hidden: int
    heads: int
    vocab: int
    seq_len: int
    ffn: int | None = None  # LLaMA's MLP width; None for GPT's 4 h

    @property
    def layer_params(self) -> int:
        h = self.hidden
        return 4 * h * h + (3 * h * self.ffn if self.ffn else 8 * h * h)

    @property
    def embedding_params(self) -> int:
        return self.vocab * self.hidden

    @property
    def params(self) -> int:
        return self.layers * self.layer_params + self.embedding_params

    def layer_forward_flops(self, micro_batch: int) -> float:
        tokens = micro_batch * self.seq_len
        return 2.0 * self.layer_params * tokens + 4.0 * micro_batch * self.seq_len**2 * self.hidden


PRESETS = {
    spec.name: spec
    for spec in (
        ModelSpec("gpt3-1.3b", 24, 2048, 16, 50257, 2048),
        ModelSpec("gpt3-2.7b", 32, 2560, 32, 50257, 2048),
        ModelSpec("gpt3-6.7b", 32, 4096, 32, 50257, 2048),
        ModelSpec("gpt3-13b", 40, 5120, 40, 50257, 2048),
        ModelSpec("llama-7b", 32, 4096, 32, 32000, 2048, ffn=11008),
        ModelSpec("llama-13b", 40, 5120, 40, 32000, 2048, ffn=13824),
    )
}


def preset(name: str) -> ModelSpec:
    if name not in PRESETS:
        raise RetinueError(f"unknown model {name!r}; presets: {', '.join(PRESETS)}")
    return PRESETS[name]
