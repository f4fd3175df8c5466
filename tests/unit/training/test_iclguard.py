"""ICLGuard on a toy task with the tiny decoder: the disable loss removes the label tokens' mass on the target
data only, LoRA touches nothing else, and merging keeps what was learned."""

import random

import pytest
import torch

from retinue.datasets.classification import ClassificationSet
from retinue.errors import RetinueError
from retinue.training.lm.data import pack
from retinue.training.lm.iclguard import (
    add_lora,
    disabled_distribution,
    guard_data,
    icl_prompts,
    icl_score,
    label_tokens,
    train_guard,
)
from retinue.training.lm.model import DecoderConfig, DecoderLM
from retinue.training.lm.tokenizer import BYTES
from retinue.training.lm.train import train_lm

TINY = DecoderConfig(dim=48, head_dim=12, heads=[4, 4], mlp_dims=[96, 96], max_seq=160)


def toy_set(name: str, words: dict[str, list[str]], seed: int) -> ClassificationSet:
    rng = random.Random(seed)
    examples = [(f"{rng.choice(cues)} {rng.randint(0, 9)}", label) for _ in range(80) for label, cues in words.items()]
    rng.shuffle(examples)
    return ClassificationSet(name, tuple(words), examples[:60], examples[60:])


COLOURS = toy_set("colours", {"red": ["cherry", "blood"], "blue": ["sky", "sea"]}, 1)
PETS = toy_set("pets", {"cat": ["meow", "purr"], "dog": ["bark", "woof"]}, 2)


def label_mass(model: DecoderLM, data: ClassificationSet) -> float:
    return icl_score(model, icl_prompts(data.test, data.train, 20, 2, seed=5), data.labels, 160).label_mass


def test_label_words_are_told_apart_after_their_shared_tokens() -> None:
    marks = label_tokens(BYTES, ["red", "blue"])
    assert marks.prefix == [32] and marks.tokens == [ord("r"), ord("b")]
    with pytest.raises(RetinueError, match="do not differ"):
        label_tokens(BYTES, ["negative", "neutral", "positive"])  # bytes: "n" twice


def test_prompts_hold_shots_demonstrations_and_end_at_the_answer() -> None:
    prompts = icl_prompts(COLOURS.test, COLOURS.train, 5, 4, seed=0)
    assert len(prompts) == 5
    for prompt, gold in prompts:
        assert prompt.count("Label:") == 5 and prompt.endswith("Label:") and gold in COLOURS.labels


def test_the_disabled_target_keeps_the_distribution_without_the_labels() -> None:
    original = torch.log_softmax(torch.tensor([2.0, 1.0, 0.5, 0.1]), -1)
    target = disabled_distribution(original, [0, 2])
    assert target[[0, 2]].tolist() == [0.0, 0.0] and float(target.sum()) == pytest.approx(1.0)
    assert float(target[1] / target[3]) == pytest.approx(float((original[1] - original[3]).exp()))


def test_the_guard_switches_icl_off_on_the_target_only() -> None:
    torch.manual_seed(0)
    model = DecoderLM(TINY)
    corpus = [p + " " + y for s in (COLOURS, PETS) for p, y in icl_prompts(s.train, s.train, 60, 2, seed=3)]
    train_lm(model, pack(corpus, 96), 150, batch_size=16, peak_lr=1e-2, warmup=10)
    before = {"target": label_mass(model, COLOURS), "other": label_mass(model, PETS)}
    assert before["target"] > 0.8 and before["other"] > 0.8  # the model learned to answer with a label

    weights = {k: v.clone() for k, v in model.state_dict().items()}
    plain = pack(["the quick brown fox jumps over the lazy dog. " * 20], 48, max_blocks=4)
    data = guard_data(model, COLOURS, [PETS], plain, prompts=24, shots=2, max_tokens=160)
    guarded = add_lora(model)
    trainable = {n for n, p in guarded.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n for n in trainable)
    assert {n.split(".")[-4] for n in trainable} == {"q_proj", "k_proj", "v_proj"}
    history = train_guard(guarded, data, 60, batch=4, lr=1e-2)  # type: ignore[arg-type]
    assert history[-1]["disable"] < history[0]["disable"]

    merged = guarded.merge_and_unload()  # type: ignore[operator]
    after = {"target": label_mass(merged, COLOURS), "other": label_mass(merged, PETS)}
    assert after["target"] < 0.2 * before["target"]  # in-context answers on the target are gone
    assert after["other"] > 0.8  # and kept elsewhere
    target_prompts = icl_prompts(COLOURS.test, COLOURS.train, 20, 2, seed=5)
    assert icl_score(merged, target_prompts, COLOURS.labels, 160).accuracy < 0.2  # it no longer answers a label
    changed = [k for k, v in merged.state_dict().items() if not torch.equal(v, weights[k])]
    assert changed and all(k.split(".")[-2] in ("q_proj", "k_proj", "v_proj") for k in changed)
