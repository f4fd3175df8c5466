"""TransAct: task-agnostic structured pruning that keeps the hidden width and shrinks only inside each
module, with physically smaller weight matrices.

- Channel importance is the L2 norm of each channel's activation over calibration tokens: for attention
  the heads' output before the output projection, for the MLP act(gate(x)) * up(x), the input of the down
  projection.
- A head's score is mean + (10 / head_dim) * max of its channels' norms; whole heads are kept or removed.
- Pruning is iterative: each of R rounds closes the gap to the target width linearly, then retrains
  briefly.

Both decoders here are pruned the same way, through the q/k/v/o and gate/up/down projections they share by
name. The tiny decoder has one key/value head per query head, so a removed head takes its keys and values
with it and the KV cache shrinks. Gemma 3 270M shares one key/value head among its four query heads
(grouped-query attention): there only query heads go, the same number from every group, and the KV cache
stays as it was.

The baselines prune to the same widths by random scores or by the weights' magnitude.
"""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import torch
from torch import nn

from retinue.training.lm.gemma import GemmaLM
from retinue.training.lm.train import LanguageModel, train_lm

METHODS = ("transact", "magnitude", "random")
Scores = tuple[list[torch.Tensor], list[torch.Tensor]]  # per layer: head scores, MLP channel scores
Progress = Callable[[int, int], None]  # rounds done, rounds


@dataclass(frozen=True)
class Geometry:
    """The widths TransAct works on, the same in every layer of the models pruned here."""

    head_dim: int
    heads: int  # query heads
    kv_heads: int
    mlp_dim: int
    keeps_kv: bool  # grouped-query attention: key/value heads stay, query heads go per group

    @property
    def groups(self) -> int:
        """Query heads are pruned by the same number from each of this many equal groups."""
        return self.kv_heads if self.keeps_kv else 1


def geometry(model: LanguageModel) -> Geometry:
    if isinstance(model, GemmaLM):
        config = model.model.config
        return Geometry(config.head_dim, config.num_attention_heads, config.num_key_value_heads,
                        config.intermediate_size, keeps_kv=True)  # fmt: skip
    config = model.config
    if len(set(config.heads)) != 1 or len(set(config.mlp_dims)) != 1:
        raise ValueError(f"layers of different widths (heads {config.heads}, MLP {config.mlp_dims})")
    return Geometry(config.head_dim, config.heads[0], config.heads[0], config.mlp_dims[0], keeps_kv=False)


def modules(model: LanguageModel) -> list[tuple[Any, Any]]:
    """(attention, MLP) of every layer: modules with q/k/v/o_proj and gate/up/down_proj (nn.Linear), told apart
    by those names only."""
    if isinstance(model, GemmaLM):
        return [(layer.self_attn, layer.mlp) for layer in model.model.model.layers]
    return [(block.attention, block.mlp) for block in model.decoder_blocks()]


@torch.no_grad()
def activation_norms(model: LanguageModel, calib: torch.Tensor, batch_size: int = 16) -> Scores:
    """Per layer: the L2 norm over calibration tokens of every attention channel (before the output
    projection) and of every MLP channel (the down projection's input)."""
    layers = modules(model)
    attention = [torch.zeros(a.o_proj.in_features) for a, _ in layers]
    mlp = [torch.zeros(m.down_proj.in_features) for _, m in layers]
    hooks = []
    for layer, (attention_module, mlp_module) in enumerate(layers):

        def attention_hook(_: nn.Module, inputs: tuple[torch.Tensor], __: object, layer: int = layer) -> None:
            attention[layer] += inputs[0].pow(2).sum(dim=(0, 1))

        def mlp_hook(_: nn.Module, inputs: tuple[torch.Tensor], __: object, layer: int = layer) -> None:
            mlp[layer] += inputs[0].pow(2).sum(dim=(0, 1))

        hooks.append(attention_module.o_proj.register_forward_hook(attention_hook))
        hooks.append(mlp_module.down_proj.register_forward_hook(mlp_hook))
    model.eval()
    try:
        for batch in calib.split(batch_size):
            model(batch[:, :-1])
    finally:
        for hook in hooks:
            hook.remove()
    return [a.sqrt() for a in attention], [m.sqrt() for m in mlp]


def head_scores(channel_norms: torch.Tensor, head_dim: int) -> torch.Tensor:
    """mean + (10 / head_dim) * max of each head's channel norms."""
    per_head = channel_norms.view(-1, head_dim)
    return per_head.mean(dim=1) + (10.0 / head_dim) * per_head.max(dim=1).values


def importance(model: LanguageModel, method: str, calib: torch.Tensor, seed: int = 0) -> Scores:
    """(head scores, MLP channel scores) per layer, by `method`."""
    shape = geometry(model)
    if method == "transact":
        attention, mlp = activation_norms(model, calib)
        return [head_scores(a, shape.head_dim) for a in attention], mlp
    if method == "magnitude":
        heads, channels = [], []
        for att, ffn in modules(model):
            owned = [att.q_proj.weight] if shape.keeps_kv else [att.q_proj.weight, att.k_proj.weight, att.v_proj.weight]
            rows = torch.cat(owned, dim=1).norm(dim=1)
            heads.append((rows + att.o_proj.weight.norm(dim=0)).view(-1, shape.head_dim).sum(dim=1))
            channels.append(
                ffn.gate_proj.weight.norm(dim=1) + ffn.up_proj.weight.norm(dim=1) + ffn.down_proj.weight.norm(dim=0)
            )
        return [h.detach() for h in heads], [c.detach() for c in channels]
    if method == "random":
        generator = torch.Generator().manual_seed(seed)
        layers = len(modules(model))
        return (
            [torch.rand(shape.heads, generator=generator) for _ in range(layers)],
            [torch.rand(shape.mlp_dim, generator=generator) for _ in range(layers)],
        )
    raise ValueError(f"unknown pruning method {method!r}; methods: {', '.join(METHODS)}")


def top(scores: torch.Tensor, keep: int, groups: int = 1) -> torch.Tensor:
    """The indices of the `keep` best scores, in order; with `groups`, the same number from each of that many
    equal consecutive groups (the query heads that share a key/value head)."""
    per_group = scores.view(groups, -1)
    best = per_group.topk(keep // groups, dim=1).indices + torch.arange(groups).unsqueeze(1) * per_group.shape[1]
    return best.flatten().sort().values


def _sliced(linear: nn.Linear, rows: torch.Tensor | None = None, columns: torch.Tensor | None = None) -> nn.Linear:
    weight = linear.weight.detach()
    weight = weight[rows] if rows is not None else weight
    weight = weight[:, columns] if columns is not None else weight
    smaller = nn.Linear(weight.shape[1], weight.shape[0], bias=False, dtype=weight.dtype)
    smaller.weight = nn.Parameter(weight.clone(), requires_grad=linear.weight.requires_grad)
    return smaller


@torch.no_grad()
def prune(model: LanguageModel, keep_heads: list[torch.Tensor], keep_channels: list[torch.Tensor]) -> None:
    """Keep only the given heads and MLP channels of each layer, in place: smaller matrices, the same hidden
    width, embeddings, norms and head. Every layer must keep as many as the others."""
    shape = geometry(model)
    head_dim = shape.head_dim
    for (attention, mlp), heads, channels in zip(modules(model), keep_heads, keep_channels, strict=True):
        rows = (heads.unsqueeze(1) * head_dim + torch.arange(head_dim)).flatten()
        names = ("q_proj",) if shape.keeps_kv else ("q_proj", "k_proj", "v_proj")
        for name in names:
            setattr(attention, name, _sliced(getattr(attention, name), rows=rows))
        attention.o_proj = _sliced(attention.o_proj, columns=rows)
        mlp.gate_proj = _sliced(mlp.gate_proj, rows=channels)
        mlp.up_proj = _sliced(mlp.up_proj, rows=channels)
        mlp.down_proj = _sliced(mlp.down_proj, columns=channels)
    kept_heads, mlp_dim = len(keep_heads[0]), len(keep_channels[0])
    if isinstance(model, GemmaLM):
        config = model.model.config
        config.num_attention_heads, config.intermediate_size = kept_heads, mlp_dim
        for attention, _ in modules(model):
            attention.num_key_value_groups = kept_heads // config.num_key_value_heads
    else:
        for attention, _ in modules(model):
            attention.heads = kept_heads
        model.config = replace(model.config, heads=[kept_heads] * len(keep_heads), mlp_dims=[mlp_dim] * len(keep_heads))


def widths(current: int, target: int, rounds_left: int) -> int:
    """This round's width: the gap to the target closed linearly over the rounds left."""
    return current - math.ceil((current - target) / rounds_left)


def check_targets(shape: Geometry, target_heads: int, target_mlp: int) -> None:
    """Raise ValueError unless a model of `shape` can be pruned to `target_heads` query heads and `target_mlp`
    MLP channels per layer: no wider than it is, and the same number of query heads in each key/value group."""
    if not 0 < target_heads <= shape.heads or not 0 < target_mlp <= shape.mlp_dim:
        raise ValueError(
            f"{target_heads} heads and {target_mlp} MLP channels do not fit the model's widths "
            f"(attention {shape.heads} heads of {shape.head_dim}, MLP {shape.mlp_dim})"
        )
    if target_heads % shape.groups:
        raise ValueError(
            f"{target_heads} query heads do not split evenly over the model's {shape.kv_heads} key/value heads"
        )


def transact(
    model: LanguageModel,
    method: str,
    target_heads: int,
    target_mlp: int,
    *,
    rounds: int,
    calib: torch.Tensor,
    retrain: torch.Tensor,
    retrain_steps: int,
    lr: float = 1e-3,
    batch_size: int = 16,
    seed: int = 0,
    progress: Progress | None = None,
) -> LanguageModel:
    """Prune `model` in place to `target_heads` query heads and `target_mlp` MLP channels per layer over
    `rounds` rounds of (score, prune, retrain for `retrain_steps` on `retrain`); returns it."""
    shape = geometry(model)
    check_targets(shape, target_heads, target_mlp)
    groups = shape.groups
    for done in range(rounds):
        heads, channels = importance(model, method, calib, seed=seed + done)
        keep = widths(len(heads[0]) // groups, target_heads // groups, rounds - done) * groups
        keep_heads = [top(s, keep, groups) for s in heads]
        keep_channels = [top(s, widths(len(s), target_mlp, rounds - done)) for s in channels]
        prune(model, keep_heads, keep_channels)
        if retrain_steps:
            train_lm(model, retrain, retrain_steps, batch_size=batch_size, peak_lr=lr,
                     warmup=max(1, retrain_steps // 10), seed=seed + done)  # fmt: skip
        if progress:
            progress(done + 1, rounds)
    return model.eval()


@torch.no_grad()
def tokens_per_second(model: LanguageModel, blocks: torch.Tensor, repeats: int = 5) -> float:
    """Forward throughput over `blocks`: the best of `repeats` passes after one to warm up."""
    model.eval()
    model(blocks[:, :-1])
    best = math.inf
    for _ in range(repeats):
        started = time.perf_counter()
        model(blocks[:, :-1])
        best = min(best, time.perf_counter() - started)
    return blocks[:, :-1].numel() / best
