"""ICLGuard (Si et al., 2024): keep a language model frozen and train LoRA adapters (rank 8, alpha 32, on the
query, key and value projections) so that in-context learning stops working on the owner's target data and
keeps working elsewhere.

An ICL prompt is k demonstrations `Text: ...\\nLabel: word` and a query ending in `Label:`; the model's
answer is its most likely next token, right when it is the first token of the gold label word. Three
losses, summed:

- disable (target-data prompts): cross-entropy toward the original model's next-token distribution with
  the label tokens' probability removed and the rest renormalised, so the guarded model stops answering
  with a label but otherwise behaves as before;
- maintenance (prompts of other data): cross-entropy toward the original distribution, unchanged;
- utility (plain text): squared L2 distance between the L2-normalised final hidden states of the guarded
  and the original model.

The original model's distributions and hidden states are computed once before training (the base
weights never change), so each step runs only the guarded model.
"""

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch.nn import functional

from retinue.datasets.classification import ClassificationSet, Examples
from retinue.errors import RetinueError
from retinue.training.lm.tokenizer import Tokenizer
from retinue.training.lm.train import LanguageModel

LORA_TARGETS = ("q_proj", "k_proj", "v_proj")
Progress = Callable[[int, int, float], None]  # step, steps, loss


def demonstration(text: str, label: str | None = None) -> str:
    return f"Text: {text}\nLabel:" + (f" {label}\n\n" if label is not None else "")


@dataclass(frozen=True)
class LabelTokens:
    """How a tokenizer tells label words apart: the tokens all of them start with (appended to every
    prompt), then one distinct token per label."""

    prefix: list[int]
    tokens: list[int]


def label_tokens(tokenizer: Tokenizer, labels: Sequence[str]) -> LabelTokens:
    encoded = [tokenizer.encode(" " + label) for label in labels]
    shared = 0
    while all(len(e) > shared + 1 for e in encoded) and len({e[shared] for e in encoded}) == 1:
        shared += 1
    tokens = [e[shared] if len(e) > shared else -1 for e in encoded]
    if len(set(tokens)) != len(tokens) or -1 in tokens:
        raise RetinueError(f"the label words {list(labels)} do not differ in one token under this tokenizer")
    return LabelTokens(encoded[0][:shared], tokens)


def icl_prompts(examples: Examples, pool: Examples, count: int, shots: int, seed: int) -> list[tuple[str, str]]:
    """`count` (prompt, gold label) pairs: seeded queries from `examples`, each after `shots` demonstrations
    drawn from `pool` (never the query itself)."""
    rng = random.Random(seed)
    queries = rng.sample(examples, min(count, len(examples)))
    prompts = []
    for text, label in queries:
        demos = [d for d in rng.sample(pool, min(len(pool), shots + 1)) if d[0] != text][:shots]
        prompts.append(("".join(demonstration(t, y) for t, y in demos) + demonstration(text), label))
    return prompts


def prompt_tokens(tokenizer: Tokenizer, prompt: str, labels: LabelTokens, max_tokens: int) -> torch.Tensor:
    """(1, n) tokens of a prompt, left-truncated to `max_tokens` (the query and answer position stay)."""
    tokens = [tokenizer.bos, *tokenizer.encode(prompt), *labels.prefix]
    return torch.tensor([tokens[-max_tokens:]])


def answer_log_probs(model: LanguageModel, tokens: torch.Tensor) -> torch.Tensor:
    """Log-probabilities of the next token after the prompt, (vocab,)."""
    return functional.log_softmax(model(tokens)[0, -1].float(), dim=-1)


@dataclass(frozen=True)
class ICLScore:
    accuracy: float  # share of prompts whose most likely next token is the gold label's
    label_mass: float  # mean probability the model puts on the label tokens


@torch.no_grad()
def icl_score(
    model: LanguageModel, prompts: list[tuple[str, str]], labels: Sequence[str], max_tokens: int = 512
) -> ICLScore:
    """How well the model answers ICL prompts greedily: a prompt counts as right when the model's most likely
    next token (over the whole vocabulary) is the gold label's token, so an answer that is no label at all,
    which is what ICLGuard trains for, counts as wrong."""
    model.eval()
    marks = label_tokens(model.tokenizer, labels)
    correct, mass = 0, 0.0
    for prompt, gold in prompts:
        log_probs = answer_log_probs(model, prompt_tokens(model.tokenizer, prompt, marks, max_tokens))
        correct += int(log_probs.argmax()) == marks.tokens[list(labels).index(gold)]
        mass += float(log_probs[marks.tokens].exp().sum())
    return ICLScore(correct / len(prompts), mass / len(prompts))


def disabled_distribution(original: torch.Tensor, label_ids: Sequence[int]) -> torch.Tensor:
    """The original next-token probabilities with the label tokens' mass removed, renormalised."""
    probabilities = original.exp().clone()
    probabilities[list(label_ids)] = 0.0
    return probabilities / probabilities.sum()


def soft_cross_entropy(target: torch.Tensor, log_probs: torch.Tensor) -> torch.Tensor:
    return -(target * log_probs).sum()


def utility_loss(hidden: torch.Tensor, original: torch.Tensor) -> torch.Tensor:
    """Mean over tokens of the squared L2 distance between normalised hidden states."""
    return (functional.normalize(hidden, dim=-1) - functional.normalize(original, dim=-1)).pow(2).sum(-1).mean()


@dataclass
class GuardData:
    """Training material with the original model's outputs precomputed."""

    disable: list[tuple[torch.Tensor, torch.Tensor]]  # (prompt tokens, target distribution)
    maintain: list[tuple[torch.Tensor, torch.Tensor]]
    plain: list[tuple[torch.Tensor, torch.Tensor]]  # (text tokens, original hidden states)


@torch.no_grad()
def guard_data(
    model: LanguageModel,
    target: ClassificationSet,
    others: Sequence[ClassificationSet],
    plain_blocks: torch.Tensor,
    *,
    prompts: int,
    shots: int = 4,
    seed: int = 0,
    max_tokens: int = 512,
) -> GuardData:
    """`prompts` disable prompts from the target's training part, as many maintenance prompts spread over the
    other sets' training parts, and the plain-text blocks, each with the original model's outputs."""
    model.eval()
    tokenizer = model.tokenizer

    def targets(
        data: ClassificationSet, count: int, salt: int, disable: bool
    ) -> list[tuple[torch.Tensor, torch.Tensor]]:
        marks = label_tokens(tokenizer, data.labels)
        pairs = []
        for prompt, _ in icl_prompts(data.train, data.train, count, shots, seed + salt):
            tokens = prompt_tokens(tokenizer, prompt, marks, max_tokens)
            original = answer_log_probs(model, tokens)
            pairs.append((tokens, disabled_distribution(original, marks.tokens) if disable else original.exp()))
        return pairs

    maintain = []
    for index, other in enumerate(others):
        maintain += targets(other, prompts // len(others) + (index < prompts % len(others)), index + 1, False)
    plain = [(block[None], model.hidden(block[None])) for block in plain_blocks]
    return GuardData(targets(target, prompts, 0, True), maintain, plain)


def add_lora(model: LanguageModel, rank: int = 8, alpha: int = 32) -> torch.nn.Module:
    """LoRA adapters on q/k/v; every other weight frozen. Returns peft's wrapper (merge_and_unload gives the
    model back with the adapters folded into its weights)."""
    from peft import LoraConfig, LoraModel

    config = LoraConfig(r=rank, lora_alpha=alpha, target_modules=list(LORA_TARGETS), lora_dropout=0.0)
    return LoraModel(model, config, "default")


def train_guard(
    model: LanguageModel,
    data: GuardData,
    steps: int,
    *,
    batch: int = 2,
    lr: float = 1e-3,
    seed: int = 0,
    progress: Progress | None = None,
) -> list[dict[str, float]]:
    """Train the LoRA parameters of `model` (already wrapped by `add_lora`) for `steps` steps, each over
    `batch` disable prompts, `batch` maintenance prompts and one plain-text block; returns every step's
    three losses."""
    trained = [p for p in model.parameters() if p.requires_grad]
    if not trained:
        raise RetinueError("no trainable parameters: wrap the model with add_lora first")
    optimiser = torch.optim.AdamW(trained, lr=lr, weight_decay=0.0)
    rng = random.Random(seed)
    history = []
    model.train()
    for step in range(steps):
        optimiser.zero_grad()
        disable = torch.stack([
            soft_cross_entropy(target, answer_log_probs(model, tokens))
            for tokens, target in rng.sample(data.disable, min(batch, len(data.disable)))
        ]).mean()  # fmt: skip
        maintain = torch.stack([
            soft_cross_entropy(target, answer_log_probs(model, tokens))
            for tokens, target in rng.sample(data.maintain, min(batch, len(data.maintain)))
        ]).mean()  # fmt: skip
        tokens, original = rng.choice(data.plain)
        utility = utility_loss(model.hidden(tokens), original)
        (disable + maintain + utility).backward()
        torch.nn.utils.clip_grad_norm_(trained, 1.0)
        optimiser.step()
        losses = {"disable": float(disable.detach()), "maintain": float(maintain.detach()),
                  "utility": float(utility.detach())}  # fmt: skip
        history.append(losses)
        if progress:
            progress(step + 1, steps, sum(losses.values()))
    model.eval()
    return history
