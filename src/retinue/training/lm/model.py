"""A LLaMA-style decoder in torch: RMSNorm, rotary position embeddings, causal multi-head attention and a
SwiGLU MLP, pre-norm residual blocks, untied output head.

Widths are per layer (`heads`, `mlp_dims`), so a structurally pruned model (TransAct keeps the hidden
width and shrinks only inside each module) is the same class with smaller numbers.
"""

from dataclasses import asdict, dataclass, field
from typing import Any, cast

import torch
from torch import nn
from torch.nn import functional

from retinue.training.lm.tokenizer import BYTES, VOCAB_SIZE


@dataclass(frozen=True)
class DecoderConfig:
    vocab_size: int = VOCAB_SIZE
    dim: int = 128
    head_dim: int = 32
    heads: list[int] = field(default_factory=lambda: [4] * 4)  # attention heads per layer
    mlp_dims: list[int] = field(default_factory=lambda: [352] * 4)  # MLP intermediate width per layer
    max_seq: int = 256
    rope_theta: float = 10_000.0
    norm_eps: float = 1e-5

    @property
    def layers(self) -> int:
        return len(self.heads)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def next_token_loss(model: nn.Module, blocks: torch.Tensor) -> torch.Tensor:
    """Mean next-token cross-entropy of `model` (tokens in, logits out) over blocks (batch, seq + 1)."""
    logits = model(blocks[:, :-1])
    return functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), blocks[:, 1:].reshape(-1))


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rotary_tables(config: DecoderConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin, (max_seq, head_dim / 2), for rotating query and key pairs by position."""
    frequencies = 1.0 / config.rope_theta ** (torch.arange(0, config.head_dim, 2).float() / config.head_dim)
    angles = torch.outer(torch.arange(config.max_seq).float(), frequencies)
    return angles.cos(), angles.sin()


def rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """x: (batch, heads, seq, head_dim), halves rotated as pairs."""
    first, second = x[..., ::2], x[..., 1::2]
    seq = x.shape[-2]
    c, s = cos[:seq], sin[:seq]
    return torch.stack([first * c - second * s, first * s + second * c], dim=-1).flatten(-2)


class Attention(nn.Module):
    def __init__(self, config: DecoderConfig, heads: int) -> None:
        super().__init__()
        self.heads, self.head_dim = heads, config.head_dim
        inner = heads * config.head_dim
        self.q_proj = nn.Linear(config.dim, inner, bias=False)
        self.k_proj = nn.Linear(config.dim, inner, bias=False)
        self.v_proj = nn.Linear(config.dim, inner, bias=False)
        self.o_proj = nn.Linear(inner, config.dim, bias=False)

    def attend(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        """The heads' output before the output projection, (batch, seq, heads * head_dim)."""
        batch, seq, _ = x.shape

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.view(batch, seq, self.heads, self.head_dim).transpose(1, 2)

        q, k, v = split(self.q_proj(x)), split(self.k_proj(x)), split(self.v_proj(x))
        out = functional.scaled_dot_product_attention(rotate(q, cos, sin), rotate(k, cos, sin), v, is_causal=True)
        return out.transpose(1, 2).reshape(batch, seq, self.heads * self.head_dim)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        return self.o_proj(self.attend(x, cos, sin))  # type: ignore[no-any-return]


class SwiGLU(nn.Module):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.gate_proj = nn.Linear(dim, hidden, bias=False)
        self.up_proj = nn.Linear(dim, hidden, bias=False)
        self.down_proj = nn.Linear(hidden, dim, bias=False)

    def inner(self, x: torch.Tensor) -> torch.Tensor:
        """act(gate(x)) * up(x): the input of the down projection."""
        return functional.silu(self.gate_proj(x)) * self.up_proj(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(self.inner(x))  # type: ignore[no-any-return]


class DecoderBlock(nn.Module):
    def __init__(self, config: DecoderConfig, heads: int, mlp_dim: int) -> None:
        super().__init__()
        self.attention_norm = RMSNorm(config.dim, config.norm_eps)
        self.attention = Attention(config, heads)
        self.mlp_norm = RMSNorm(config.dim, config.norm_eps)
        self.mlp = SwiGLU(config.dim, mlp_dim)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        x = x + self.attention(self.attention_norm(x), cos, sin)
        return x + self.mlp(self.mlp_norm(x))  # type: ignore[no-any-return]


class DecoderLM(nn.Module):
    def __init__(self, config: DecoderConfig) -> None:
        super().__init__()
        if len(config.heads) != len(config.mlp_dims):
            raise ValueError("heads and mlp_dims need one entry per layer")
        self.config = config
        self.embed = nn.Embedding(config.vocab_size, config.dim)
        self.blocks = nn.ModuleList(
            DecoderBlock(config, h, m) for h, m in zip(config.heads, config.mlp_dims, strict=True)
        )
        self.norm = RMSNorm(config.dim, config.norm_eps)
        self.head = nn.Linear(config.dim, config.vocab_size, bias=False)
        cos, sin = rotary_tables(config)
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)

    tokenizer = BYTES

    @property
    def max_seq(self) -> int:
        return self.config.max_seq

    def hidden(self, tokens: torch.Tensor) -> torch.Tensor:
        """The final (normed) hidden states, (batch, seq, dim)."""
        x = self.embed(tokens)
        for block in self.blocks:
            x = block(x, self.cos, self.sin)
        return self.norm(x)  # type: ignore[no-any-return]

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Logits (batch, seq, vocab) for tokens (batch, seq)."""
        return self.head(self.hidden(tokens))  # type: ignore[no-any-return]

    def loss(self, blocks: torch.Tensor) -> torch.Tensor:
        return next_token_loss(self, blocks)

    def decoder_blocks(self) -> list[DecoderBlock]:
        return [cast(DecoderBlock, block) for block in self.blocks]

    def parameters_count(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def kv_cache_bytes(self, seq: int, bytes_per_value: int = 2) -> int:
        """Keys and values of every layer for one sequence of `seq` tokens (fp16 by default)."""
        return 2 * sum(self.config.heads) * self.config.head_dim * seq * bytes_per_value
