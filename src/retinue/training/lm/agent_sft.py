"""agent-gemma: Gemma 3 270M fine-tuned (LoRA) on the agents' own choices (`retinue train agent-data`).

Each example is tokenised exactly as the embedded model scores a choice at run time
(`LlamaCppChatModel.choice_tokens`: the prompt in the model's own chat format, the stem, the option),
with llama.cpp's tokenizer, whose ids are the torch model's (it was converted from the same GGUF). The
loss is the cross-entropy of the target option's tokens only, and the vocabulary head (262k x 640) is
applied only at those positions. LoRA adapters sit on every linear layer of the blocks; everything else
is frozen. `save_adapter` keeps the adapter alone; `write_merged` folds it into the base and writes the
model.gguf that the model seam runs by its registered name.
"""

import json
import random
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch.nn.functional import cross_entropy

from retinue.errors import RetinueError
from retinue.models.model_folder import ADAPTER_FILE, CARD_FILE, check_hash, file_sha256, write_card
from retinue.training.lm.gemma import GemmaLM, base_folder, load_gemma

LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Tokenised:
    """One example as token ids: the prompt (format, stem) then the target option, which starts at
    `target_start`."""

    tokens: list[int]
    target_start: int
    role: str
    group: str  # what held-out examples are split by: a game, a question, a set of sentences
    text: str = ""  # the prompt's messages, stem and target as text (what ZIP compresses)


def read_examples(folders: Sequence[Path], roles: Sequence[str]) -> list[dict[str, Any]]:
    """The examples of `roles` from `train agent-data` run folders (each role from the one folder that has
    it), with a clear error for a role that none or several have."""
    examples = []
    for role in roles:
        paths = [folder / f"{role}.jsonl" for folder in folders if (folder / f"{role}.jsonl").is_file()]
        if not paths:
            where = ", ".join(str(f) for f in folders)
            raise RetinueError(f"{where}: no {role}.jsonl; make it with `retinue train agent-data --roles {role}`")
        if len(paths) > 1:
            raise RetinueError(f"--data: {role}.jsonl is in {' and '.join(str(p.parent) for p in paths)}; name one")
        with paths[0].open(encoding="utf-8") as lines:
            examples += [json.loads(line) for line in lines if line.strip()]
    return examples


def per_role(
    examples: Sequence[dict[str, Any]], limit: int | Mapping[str, int] | None, seed: int
) -> list[dict[str, Any]]:
    """At most `limit` examples of each role (a number for every role, or one a role: a role it does not name
    keeps all; None keeps all), drawn by `seed`, in their given order."""
    if limit is None:
        return list(examples)
    by_role: dict[str, list[int]] = {}
    for index, example in enumerate(examples):
        by_role.setdefault(example["role"], []).append(index)

    def cap(role: str, count: int) -> int:
        wanted = limit.get(role, count) if isinstance(limit, Mapping) else limit
        return min(wanted, count)

    kept = sorted(
        index
        for role, indices in sorted(by_role.items())
        for index in random.Random(f"{seed}:{role}").sample(indices, cap(role, len(indices)))
    )
    return [examples[index] for index in kept]


def parse_per_role(text: str) -> int | dict[str, int]:
    """`--per-role`: a number for every role ("400") or one a role ("planner=2000,actor=300")."""
    text = text.strip()
    try:
        if "=" not in text:
            limit = int(text)
            if limit < 1:
                raise ValueError
            return limit
        caps = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            role, _, count = (piece.strip() for piece in part.partition("="))
            caps[role] = int(count)
            if not role or caps[role] < 1:
                raise ValueError
        return caps
    except ValueError:
        raise RetinueError(
            f"--per-role {text!r}: a number of at least 1, or ROLE=N for each role (planner=2000,actor=300)"
        ) from None


def tokenise(examples: Iterable[dict[str, Any]], max_tokens: int) -> tuple[list[Tokenised], int]:
    """The examples as the embedded model sees them; those longer than `max_tokens` are left out (counted)."""
    from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

    from retinue.llms.llama_cpp import LlamaCppChatModel, default_model_path

    chat = LlamaCppChatModel(model_path=str(default_model_path()), n_ctx=max(512, max_tokens))
    made, skipped = [], 0
    for example in examples:
        messages: list[BaseMessage] = [
            SystemMessage(m["content"]) if m["role"] == "system" else HumanMessage(m["content"])
            for m in example["messages"]
        ]
        prompt, (target,) = chat.choice_tokens(messages, example["stem"], [example["target"]])
        if len(prompt) + len(target) > max_tokens:
            skipped += 1
            continue
        provenance = example.get("provenance", {})
        group = str(provenance.get("game") or provenance.get("question") or provenance.get("group") or "")
        text = "\n".join([*(m["content"] for m in example["messages"]), f"{example['stem']} {example['target']}"])
        made.append(Tokenised(list(prompt) + list(target), len(prompt), example["role"], group, text))
    return made, skipped


def split_held_out(examples: Sequence[Tokenised], share: float, seed: int) -> tuple[list, list]:
    """(train, held out): whole groups (games, questions) held out, so no held-out state was trained on."""
    groups = sorted({e.group for e in examples})
    random.Random(seed).shuffle(groups)
    count = round(len(groups) * share)
    if share > 0 and len(groups) > 1:
        count = min(max(count, 1), len(groups) - 1)  # a share too small to round to a whole group still holds one
    held = set(groups[:count])
    return [e for e in examples if e.group not in held], [e for e in examples if e.group in held]


SELECTIONS = ("zip", "random")


@dataclass(frozen=True)
class BudgetSelection:
    """The examples a token budget keeps, how they were chosen, and the zlib compression ratio of their
    texts and of the pool's (the entropy law's measure of redundancy: lower is more diverse)."""

    examples: list[Tokenised]
    how: str
    tokens: int
    ratio: float
    pool_ratio: float


def select_to_budget(pool: Sequence[Tokenised], budget_tokens: int, how: str, seed: int) -> BudgetSelection:
    """Examples of `pool` until their tokens reach `budget_tokens`: by ZIP (`training/zip_select.py`), or
    drawn at random by `seed` (the control); in the pool's order, so that only the choice differs."""
    from retinue.training.zip_select import compression_ratio, zip_select

    if how not in SELECTIONS:
        raise RetinueError(f"--selection {how!r}: one of {', '.join(SELECTIONS)}")
    costs = [len(e.tokens) for e in pool]
    if not 0 < budget_tokens <= sum(costs):
        raise RetinueError(f"--budget-tokens {budget_tokens}: between 1 and the training examples' {sum(costs)} tokens")
    if how == "zip":
        chosen = zip_select([e.text for e in pool], budget_tokens, costs=costs).indices
    else:
        order = list(range(len(pool)))
        random.Random(seed).shuffle(order)
        chosen, spent = [], 0
        for index in order:
            if spent >= budget_tokens:
                break
            chosen.append(index)
            spent += costs[index]
    kept = [pool[index] for index in sorted(chosen)]
    return BudgetSelection(
        kept,
        how,
        sum(len(e.tokens) for e in kept),
        round(compression_ratio([e.text for e in kept]), 4),
        round(compression_ratio([e.text for e in pool]), 4),
    )


def add_lora(model: GemmaLM, rank: int, alpha: int) -> Any:
    """LoRA adapters on every linear layer of the blocks; every other weight frozen."""
    from peft import LoraConfig, LoraModel

    config = LoraConfig(r=rank, lora_alpha=alpha, target_modules=list(LORA_TARGETS), lora_dropout=0.0)
    return LoraModel(model, config, "default")


def save_adapter(wrapped: Any, folder: Path, card: dict[str, Any]) -> None:
    """The LoRA weights alone, fp16 (about 7.6 MB at rank 16), and a card with what `merge_adapter` needs."""
    from safetensors.torch import save_file

    config = wrapped.peft_config["default"]
    tensors = {
        name: weight.detach().to(torch.float16).contiguous()
        for name, weight in wrapped.state_dict().items()
        if "lora_" in name
    }
    folder.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(folder / ADAPTER_FILE))
    lora = {"rank": config.r, "alpha": config.lora_alpha, "targets": sorted(config.target_modules)}
    write_card(folder, {**card, "lora": lora, "tensors_sha256": file_sha256(folder / ADAPTER_FILE)})


def load_adapter(folder: Path, gemma: GemmaLM | None = None) -> tuple[Any, dict[str, Any]]:
    """Gemma 3 270M (or `gemma`) wrapped with the adapter in `folder`, and the adapter's card; refuses an
    adapter whose file does not match its card or does not fit the model."""
    from safetensors.torch import load_file

    try:
        card = json.loads((folder / CARD_FILE).read_text())
    except FileNotFoundError:
        raise RetinueError(f"no adapter in {folder}: {CARD_FILE} is missing") from None
    check_hash(folder / ADAPTER_FILE, card)
    if gemma is None:
        gemma, _ = load_gemma(base_folder())
    wrapped = add_lora(gemma, int(card["lora"]["rank"]), int(card["lora"]["alpha"]))
    tensors = load_file(str(folder / ADAPTER_FILE))
    expected = {name for name in wrapped.state_dict() if "lora_" in name}
    if set(tensors) != expected:
        raise RetinueError(f"{folder / ADAPTER_FILE} does not fit Gemma 3 270M's LoRA layout (rank {card['lora']})")
    device = next(gemma.parameters()).device
    wrapped.load_state_dict({name: weight.float().to(device) for name, weight in tensors.items()}, strict=False)
    return wrapped, card


def merge_adapter(folder: Path) -> tuple[GemmaLM, dict[str, Any]]:
    """Gemma 3 270M with the adapter in `folder` folded in, and the adapter's card."""
    wrapped, card = load_adapter(folder)
    return wrapped.merge_and_unload().eval(), card


def training_device() -> torch.device:
    """The GPU where torch sees one, else the CPU: the same code trains on both."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def device_description(device: torch.device) -> str:
    """What trained a model, for its card: the GPU's name, or the CPU threads, and torch's version."""
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (torch {torch.__version__})"
    return f"cpu ({torch.get_num_threads()} threads, torch {torch.__version__})"


def write_merged(adapter: Path, folder: Path, **fields: Any) -> dict[str, Any]:
    """Merge the adapter in `adapter` into Gemma 3 270M and write `folder`: model.gguf (what the embedded
    provider runs) and a card, the adapter's plus `fields` and the adapter's hash; returns the card. The one
    way a trained or a shipped adapter becomes a runnable model, so both give the same GGUF."""
    from retinue.training.lm.gemma import export_gguf

    merged, card = merge_adapter(adapter)
    folder.mkdir(parents=True, exist_ok=True)
    export_gguf(merged, folder)
    card = {key: value for key, value in card.items() if key != "tensors_sha256"}
    card |= {**fields, "adapter_sha256": file_sha256(adapter / ADAPTER_FILE)}
    write_card(folder, card)
    return card


def target_loss(model: Any, example: Tokenised) -> torch.Tensor:
    """Mean cross-entropy of the target's tokens; logits only where the loss reads them."""
    tokens = torch.tensor([example.tokens], device=next(model.parameters()).device)
    hidden = model.hidden(tokens)[0, example.target_start - 1 : -1]
    gemma = model if isinstance(model, GemmaLM) else model.model  # peft's LoraModel wraps the GemmaLM
    logits = gemma.model.lm_head(hidden)
    return cross_entropy(logits.float(), tokens[0, example.target_start :])


@torch.no_grad()
def mean_target_loss(model: Any, examples: Sequence[Tokenised]) -> float | None:
    """The mean target loss over `examples` (None for none)."""
    if not examples:
        return None
    return round(sum(float(target_loss(model, e)) for e in examples) / len(examples), 4)


def train(
    model: Any,
    examples: Sequence[Tokenised],
    steps: int,
    *,
    lr: float = 2e-4,
    accumulate: int = 4,
    seed: int = 0,
    progress: Progress | None = None,
) -> list[float]:
    """`steps` optimiser steps (AdamW, a short linear warm-up, then a linear decay), each over `accumulate`
    examples drawn in a seeded order (epochs in turn); every step's mean loss."""
    trained = [p for p in model.parameters() if p.requires_grad]
    if not trained:
        raise RetinueError("no trainable parameters: wrap the model with add_lora first")
    if not examples:
        raise RetinueError("no training examples (all longer than --max-tokens?)")
    optimiser = torch.optim.AdamW(trained, lr=lr, weight_decay=0.0)
    warmup = max(1, steps // 20)  # then a linear decay to zero at the last step
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: min((step + 1) / warmup, (steps - step) / max(1, steps - warmup))
    )
    order = _epochs(len(examples), seed)
    losses = []
    model.train()
    for step in range(steps):
        optimiser.zero_grad()
        total = 0.0
        for _ in range(accumulate):
            loss = target_loss(model, examples[next(order)]) / accumulate
            loss.backward()
            total += float(loss.detach())
        optimiser.step()
        schedule.step()
        losses.append(total)
        if progress is not None:
            progress(step + 1, steps)
    model.eval()
    return losses


def _epochs(count: int, seed: int) -> Iterator[int]:
    rng = random.Random(seed)
    while True:
        order = list(range(count))
        rng.shuffle(order)
        yield from order
