"""Training a decoder LM, top to bottom: AdamW, linear warmup then cosine decay to a tenth of the peak
rate, gradient clipping, seeded batches; optionally a share of every batch replayed from general text
(to limit forgetting). Perplexity is exp of the mean next-token cross-entropy."""

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from retinue.models.model_folder import load_model_folder, save_model_folder
from retinue.training.lm.gemma import GemmaLM, export_gguf, is_gemma_folder, load_gemma
from retinue.training.lm.model import DecoderConfig, DecoderLM

WEIGHTS = "lm.pt"
Progress = Callable[[int, int, float], None]  # step, steps, loss
LanguageModel = DecoderLM | GemmaLM  # the tiny byte-level decoder, or Gemma 3 270M


def learning_rate(step: int, steps: int, peak: float, warmup: int) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def train_lm(
    model: LanguageModel,
    blocks: torch.Tensor,
    steps: int,
    *,
    batch_size: int = 16,
    peak_lr: float = 3e-3,
    warmup: int = 20,
    replay: torch.Tensor | None = None,
    replay_share: float = 0.0,
    seed: int = 0,
    progress: Progress | None = None,
) -> list[float]:
    """Train in place for `steps` batches of `blocks` (a `replay_share` of each batch from `replay`);
    returns the loss of every step."""
    generator = torch.Generator().manual_seed(seed)
    trained = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(trained, lr=peak_lr, weight_decay=0.01, betas=(0.9, 0.95))
    replayed = round(batch_size * replay_share) if replay is not None else 0
    losses = []
    model.train()
    for step in range(steps):
        for group in optimiser.param_groups:
            group["lr"] = learning_rate(step, steps, peak_lr, warmup)
        batch = blocks[torch.randint(len(blocks), (batch_size - replayed,), generator=generator)]
        if replayed and replay is not None:
            batch = torch.cat([batch, replay[torch.randint(len(replay), (replayed,), generator=generator)]])
        loss = model.loss(batch)
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trained, 1.0)
        optimiser.step()
        losses.append(loss.item())
        if progress:
            progress(step + 1, steps, losses[-1])
    return losses


@torch.no_grad()
def perplexity(model: LanguageModel, blocks: torch.Tensor, batch_size: int = 8) -> float:
    model.eval()
    total, count = 0.0, 0
    for batch in blocks.split(batch_size):
        total += float(model.loss(batch)) * len(batch)
        count += len(batch)
    return math.exp(total / count)


def save_lm(model: LanguageModel, folder: Path, card: dict[str, Any]) -> None:
    """Save a model folder; a Gemma also gets its model.gguf, which the embedded chat model runs."""
    if isinstance(model, GemmaLM):
        model.save(folder, card)
        export_gguf(model, folder)
    else:
        save_model_folder(folder, WEIGHTS, model.state_dict(), {**card, "config": model.config.to_dict()})


def load_lm(folder: Path) -> tuple[LanguageModel, dict[str, Any]]:
    """The language model in `folder`: a Gemma model folder (config.json) or the tiny decoder (lm.pt)."""
    if is_gemma_folder(folder):
        return load_gemma(folder)
    tensors, card = load_model_folder(folder, WEIGHTS, "language model")
    model = DecoderLM(DecoderConfig(**card["config"]))
    model.load_state_dict(tensors)
    return model.eval(), card


def lm_card(model: LanguageModel, task: str, training_data: str, adaptation: str, **fields: Any) -> dict[str, Any]:
    """A registry card for a language model trained here, placed in the taxonomy of Qiu et al. (2020)."""
    if isinstance(model, GemmaLM):
        architecture = "Gemma 3 decoder-only Transformer (18 layers, 640 wide), torch fp32, from the Q4_K_M GGUF"
    else:
        architecture = (
            f"LLaMA-style decoder (RMSNorm, rotary attention, SwiGLU), byte-level, {model.config.layers} layers, "
            f"{model.config.dim} wide, heads {model.config.heads}, MLP widths {model.config.mlp_dims}"
        )
    return {
        "task": task,
        "architecture": architecture,
        "parameters": model.parameters_count(),
        "training_data": training_data,
        "taxonomy": {
            "representation": "contextual",
            "architecture": "Transformer decoder",
            "pretraining_task": "causal language modelling",
            "adaptation": adaptation,
        },
        **fields,
    }
