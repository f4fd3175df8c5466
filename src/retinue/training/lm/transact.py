"""TransAct: task-agnostic structured pruning that keeps the hidden width and shrinks only inside each
module, with physically smaller weight matrices.

- Channel importance is the L2 norm of each channel's activation over calibration tokens: for attention
  the heads' output before the output projection, for the MLP act(gate(x)) * up(x), the input of the down
  projection.
- A head's score is mean + (10 / head_dim) * max of its channels' norms; whole heads are kept or removed.
- Pruning is iterative: each of R rounds closes the gap to the target width linearly, then retrains
  briefly. Fewer heads also means a smaller KV cache.

The baselines prune to the same widths by random scores or by the weights' magnitude.
"""

import math
import time
from collections.abc import Callable

import torch

from retinue.training.lm.model import DecoderConfig, DecoderLM
from retinue.training.lm.train import train_lm

METHODS = ("transact", "magnitude", "random")
Scores = tuple[list[torch.Tensor], list[torch.Tensor]]  # per layer: head scores, MLP channel scores


@torch.no_grad()
def activation_norms(model: DecoderLM, calib: torch.Tensor, batch_size: int = 16) -> Scores:
    """Per layer: the L2 norm over calibration tokens of every attention channel (before the output
    projection) and of every MLP channel (the down projection's input)."""
    attention = [torch.zeros(b.attention.o_proj.in_features) for b in model.decoder_blocks()]
    mlp = [torch.zeros(b.mlp.down_proj.in_features) for b in model.decoder_blocks()]
    hooks = []
    for layer, block in enumerate(model.decoder_blocks()):

        def attention_hook(_: torch.nn.Module, inputs: tuple[torch.Tensor], __: object, layer: int = layer) -> None:
            attention[layer] += inputs[0].pow(2).sum(dim=(0, 1))

        def mlp_hook(_: torch.nn.Module, inputs: tuple[torch.Tensor], __: object, layer: int = layer) -> None:
            mlp[layer] += inputs[0].pow(2).sum(dim=(0, 1))

        hooks.append(block.attention.o_proj.register_forward_hook(attention_hook))
        hooks.append(block.mlp.down_proj.register_forward_hook(mlp_hook))
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


def importance(model: DecoderLM, method: str, calib: torch.Tensor, seed: int = 0) -> Scores:
    """(head scores, MLP channel scores) per layer, by `method`."""
    head_dim = model.config.head_dim
    if method == "transact":
        attention, mlp = activation_norms(model, calib)
        return [head_scores(a, head_dim) for a in attention], mlp
    if method == "magnitude":
        heads, channels = [], []
        for block in model.decoder_blocks():
            att, ffn = block.attention, block.mlp
            rows = torch.cat([att.q_proj.weight, att.k_proj.weight, att.v_proj.weight], dim=1).norm(dim=1)
            heads.append((rows + att.o_proj.weight.norm(dim=0)).view(-1, head_dim).sum(dim=1))
            channels.append(
                ffn.gate_proj.weight.norm(dim=1) + ffn.up_proj.weight.norm(dim=1) + ffn.down_proj.weight.norm(dim=0)
            )
        return [h.detach() for h in heads], [c.detach() for c in channels]
    if method == "random":
        generator = torch.Generator().manual_seed(seed)
        return (
            [torch.rand(h, generator=generator) for h in model.config.heads],
            [torch.rand(m, generator=generator) for m in model.config.mlp_dims],
        )
    raise ValueError(f"unknown pruning method {method!r}; methods: {', '.join(METHODS)}")


def _top(scores: torch.Tensor, keep: int) -> torch.Tensor:
    return scores.topk(keep).indices.sort().values


@torch.no_grad()
def prune(model: DecoderLM, keep_heads: list[torch.Tensor], keep_channels: list[torch.Tensor]) -> DecoderLM:
    """A new model with only the kept heads and MLP channels of each layer: smaller matrices, same hidden
    width, same embeddings, norms and head."""
    head_dim = model.config.head_dim
    config = DecoderConfig(
        **{
            **model.config.to_dict(),
            "heads": [len(h) for h in keep_heads],
            "mlp_dims": [len(c) for c in keep_channels],
        }
    )
    smaller = DecoderLM(config)
    state = model.state_dict()
    for layer, (heads, channels) in enumerate(zip(keep_heads, keep_channels, strict=True)):
        rows = (heads.unsqueeze(1) * head_dim + torch.arange(head_dim)).flatten()
        prefix = f"blocks.{layer}."
        for name in ("q_proj", "k_proj", "v_proj"):
            state[f"{prefix}attention.{name}.weight"] = state[f"{prefix}attention.{name}.weight"][rows]
        state[f"{prefix}attention.o_proj.weight"] = state[f"{prefix}attention.o_proj.weight"][:, rows]
        for name in ("gate_proj", "up_proj"):
            state[f"{prefix}mlp.{name}.weight"] = state[f"{prefix}mlp.{name}.weight"][channels]
        state[f"{prefix}mlp.down_proj.weight"] = state[f"{prefix}mlp.down_proj.weight"][:, channels]
    smaller.load_state_dict(state)
    return smaller


def widths(current: int, target: int, rounds_left: int) -> int:
    """This round's width: the gap to the target closed linearly over the rounds left."""
    return current - math.ceil((current - target) / rounds_left)


def transact(
    model: DecoderLM,
    method: str,
    target_heads: int,
    target_mlp: int,
    *,
    rounds: int,
    calib: torch.Tensor,
    retrain: torch.Tensor,
    retrain_steps: int,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> DecoderLM:
    """Prune every layer to `target_heads` heads and `target_mlp` MLP channels over `rounds` rounds of
    (score, prune, retrain for `retrain_steps` on `retrain`)."""
    for done in range(rounds):
        heads, channels = importance(model, method, calib, seed=seed + done)
        keep_heads = [_top(s, widths(len(s), target_heads, rounds - done)) for s in heads]
        keep_channels = [_top(s, widths(len(s), target_mlp, rounds - done)) for s in channels]
        model = prune(model, keep_heads, keep_channels)
        if retrain_steps:
            train_lm(model, retrain, retrain_steps, peak_lr=1e-3, warmup=max(1, retrain_steps // 10), seed=seed + done)
        if progress:
            progress(done + 1, rounds)
    return model.eval()


@torch.no_grad()
def tokens_per_second(model: DecoderLM, blocks: torch.Tensor, repeats: int = 5) -> float:
    """Forward throughput over `blocks`: the best of `repeats` passes after one to warm up."""
    model.eval()
    model(blocks[:, :-1])
    best = math.inf
    for _ in range(repeats):
        started = time.perf_counter()
        model(blocks[:, :-1])
        best = min(best, time.perf_counter() - started)
    return blocks[:, :-1].numel() / best
