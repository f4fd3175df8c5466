"""The real Gemma 3 270M in torch: continual pretraining, TransAct pruning and ICLGuard through the CLI, the
trained model written back to GGUF agreeing with torch, and run through the model seam as the embedded chat
model."""

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import torch
from torch.nn.functional import cross_entropy

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.skipif(not (DATA / "italian" / "e3c_it.jsonl").exists(), reason="the shared data is not there"),
]
ANSWER = {
    "type": "object",
    "properties": {
        "department": {"enum": ["emergency", "cardiology", "respiratory", "general"]},
        "urgent": {"type": "boolean"},
    },
    "required": ["department", "urgent"],
}


CLINICAL = (
    "Il paziente presenta febbre alta e tosse da tre giorni. La radiografia del torace mostra un addensamento "
    "al lobo inferiore destro, compatibile con polmonite."
)


def _train(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "retinue.cli", "train", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=900)


def _metrics_of(out: Path, *args: str) -> dict:
    """Run `retinue train ARGS --out OUT`, which must succeed, and read its metrics.json."""
    done = _train(*args, "--out", str(out))
    assert done.returncode == 0, done.stderr
    return json.loads((out / "metrics.json").read_text())  # type: ignore[no-any-return]


def test_gemma_continual_pretraining_becomes_an_embedded_chat_model(tmp_path: Path) -> None:
    from retinue.models import registry

    out = tmp_path / "cpt"
    metrics = _metrics_of(out, "cpt", "--base", "gemma-270m", "--steps", "2", "--batch", "1", "--seq", "32",
                          "--held-blocks", "2")  # fmt: skip
    assert metrics["parameters"] == 268_098_176
    assert metrics["trained_parameters"] == metrics["parameters"] - 262_144 * 640  # the embedding stays frozen
    assert 1 < metrics["domain_ppl_after"] < 10_000 and 1 < metrics["general_ppl_after"] < 10_000
    card = registry.card("cpt-gemma")
    assert (
        card["folder"] == str((out / "model").resolve()) and card["taxonomy"]["architecture"] == "Transformer decoder"
    )

    _check_gguf_and_chat(out / "model", "cpt-gemma")


def _check_gguf_and_chat(folder: Path, name: str) -> None:
    """The GGUF written beside a trained Gemma computes what the torch model computes, up to Q8_0 rounding,
    and the model seam runs it by its registered name, JSON-schema constrained."""
    from llama_cpp import Llama

    from retinue.config import LLMConfig
    from retinue.llms import make_chat_model
    from retinue.training.lm.train import load_lm

    model, _ = load_lm(folder)
    tokens = [model.tokenizer.bos, *model.tokenizer.encode(CLINICAL)]
    with torch.no_grad():
        expected = model(torch.tensor([tokens]))[0]
    llama = Llama(model_path=str(folder / "model.gguf"), n_ctx=128, logits_all=True, verbose=False)
    llama.eval(tokens)
    produced = torch.tensor(llama.scores[: len(tokens)])
    # Q8_0 rounding may flip near-ties (a pruned model has many); where torch's top token leads by a clear margin
    # llama.cpp must pick it too
    best_two = expected.topk(2, dim=-1).values
    clear = best_two[:, 0] - best_two[:, 1] > 0.5
    assert clear.sum() >= 5 and (produced.argmax(-1) == expected.argmax(-1))[clear].all()
    following = torch.tensor(tokens[1:])
    torch_nll, llama_nll = (float(cross_entropy(x[:-1].float(), following)) for x in (expected, produced))
    assert abs(llama_nll - torch_nll) < 0.03 * torch_nll  # a mis-mapped or unshifted tensor is far off

    chat = make_chat_model(LLMConfig(model=name, max_tokens=64, context_tokens=512))
    reply = chat.invoke("Patient with high fever and cough. Answer in JSON.", response_schema=ANSWER)
    jsonschema.validate(json.loads(str(reply.content)), ANSWER)


def test_transact_prunes_gemma_query_heads_and_mlp_into_a_smaller_embedded_chat_model(tmp_path: Path) -> None:
    from retinue.models import registry

    out = tmp_path / "pruned"
    metrics = _metrics_of(out, "transact", "--model", "gemma-270m", "--target-attn-dim", "512", "--target-mlp-dim",
                          "1024", "--rounds", "1", "--retrain-steps", "1", "--batch", "1", "--calib-blocks", "2",
                          "--held-blocks", "2", "--timing-repeats", "1", "--no-compare")  # fmt: skip
    # per layer: 2 of 4 query heads (q rows and o columns, 256 wide) and half of the 2048 MLP channels go
    removed = 18 * (2 * 256 * 640 * 2 + 1024 * 640 * 3)
    assert metrics["original_parameters"] - metrics["transact_parameters"] == removed
    assert metrics["transact_kv_cache_bytes"] == metrics["original_kv_cache_bytes"]  # one shared key/value head
    assert 1 < metrics["original_perplexity"] < metrics["transact_perplexity"]
    assert registry.card("transact-gemma")["folder"] == str((out / "model").resolve())
    _check_gguf_and_chat(out / "model", "transact-gemma")


def test_iclguard_trains_lora_on_gemma_and_reports_icl_accuracy_on_all_four_sets(tmp_path: Path) -> None:
    from retinue.models import registry

    out = tmp_path / "guard"
    metrics = _metrics_of(out, "iclguard", "--target", "sst2", "--prompts", "2", "--steps", "2", "--eval-queries",
                          "2", "--held-blocks", "1")  # fmt: skip
    for name in ("fpb", "sst2", "trec", "agnews"):
        for which in ("original", "guarded"):
            assert 0 <= metrics[f"{name}_icl_accuracy_{which}"] <= 1 and 0 < metrics[f"{name}_label_mass_{which}"] < 1
    assert metrics["lora_parameters"] == 18 * 8 * ((640 + 1024) + 2 * (640 + 256))  # r8 on q, k, v of 18 layers
    assert metrics["plain_ppl_original"] > 1 and metrics["plain_ppl_guarded"] > 1
    assert (out / "model" / "model.gguf").stat().st_size > 100_000_000
    card = registry.card("iclguard-sst2")
    assert card["metrics"] == metrics and card["taxonomy"]["adaptation"].startswith("fine-tuning (LoRA")

    bad = _train("iclguard", "--target", "imdb", "--out", str(tmp_path / "bad"))
    assert bad.returncode == 1 and "not one of fpb, sst2, trec, agnews" in bad.stderr and "Traceback" not in bad.stderr
