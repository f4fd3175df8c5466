"""TransAct on a tiny decoder and on a toy-sized Gemma 3: importance from calibration activations matches a
direct computation, the head score, the linear schedule, and pruned models with the asked (physically smaller)
shapes; Gemma keeps its shared key/value heads."""

import re
from types import SimpleNamespace

import pytest
import torch

from retinue.training.lm.gemma import GemmaLM
from retinue.training.lm.model import DecoderConfig, DecoderLM
from retinue.training.lm.transact import (
    Geometry,
    activation_norms,
    check_targets,
    geometry,
    head_scores,
    importance,
    prune,
    top,
    transact,
    widths,
)

TINY = DecoderConfig(dim=32, head_dim=8, heads=[4, 4], mlp_dims=[48, 48], max_seq=32)


def _model_and_blocks() -> tuple[DecoderLM, torch.Tensor]:
    torch.manual_seed(0)
    return DecoderLM(TINY).eval(), torch.randint(0, 256, (6, 17))


@torch.no_grad()
def test_activation_norms_match_a_direct_computation() -> None:
    model, blocks = _model_and_blocks()
    attention, mlp = activation_norms(model, blocks, batch_size=4)
    x = model.embed(blocks[:, :-1])
    for layer, block in enumerate(model.decoder_blocks()):
        heads_out = block.attention.attend(block.attention_norm(x), model.cos, model.sin)
        assert torch.allclose(attention[layer], heads_out.pow(2).sum(dim=(0, 1)).sqrt(), rtol=1e-4)
        x = x + block.attention.o_proj(heads_out)
        inner = block.mlp.inner(block.mlp_norm(x))
        assert torch.allclose(mlp[layer], inner.pow(2).sum(dim=(0, 1)).sqrt(), rtol=1e-4)
        x = x + block.mlp.down_proj(inner)


def test_a_heads_score_is_its_mean_plus_ten_over_head_dim_times_its_max() -> None:
    norms = torch.tensor([1.0, 3.0, 2.0, 2.0])  # two heads of two channels
    assert head_scores(norms, head_dim=2).tolist() == pytest.approx([2.0 + 5 * 3.0, 2.0 + 5 * 2.0])


def test_rounds_close_the_gap_linearly() -> None:
    assert [widths(8, 2, 3), widths(6, 2, 2), widths(4, 2, 1)] == [6, 4, 2]


@torch.no_grad()
def test_keeping_everything_changes_nothing_and_pruning_gives_the_asked_shapes() -> None:
    model, blocks = _model_and_blocks()
    before, original = model(blocks[:, :-1]), model.decoder_blocks()[0].attention.q_proj.weight.clone()
    kv_before = model.kv_cache_bytes(10)
    prune(model, [torch.arange(4)] * 2, [torch.arange(48)] * 2)
    assert torch.allclose(model(blocks[:, :-1]), before, atol=1e-6)
    prune(model, [torch.tensor([0, 2])] * 2, [torch.arange(0, 48, 2)] * 2)
    block = model.decoder_blocks()[0]
    assert block.attention.q_proj.weight.shape == (16, 32) and block.attention.o_proj.weight.shape == (32, 16)
    assert block.mlp.gate_proj.weight.shape == (24, 32) and block.mlp.down_proj.weight.shape == (32, 24)
    assert torch.equal(block.attention.q_proj.weight[8:], original[16:24])
    assert model.config.heads == [2, 2] and model.config.mlp_dims == [24, 24]
    assert model.kv_cache_bytes(10) == kv_before // 2
    assert model(blocks[:, :-1]).shape == (6, 16, TINY.vocab_size)


def test_top_takes_the_same_number_from_every_group() -> None:
    scores = torch.tensor([0.1, 0.9, 0.5, 0.4, 0.3, 0.2])
    assert top(scores, 2).tolist() == [1, 2]
    assert top(scores, 2, groups=2).tolist() == [1, 3]


def test_transact_keeps_the_highest_scoring_heads_and_reaches_the_targets() -> None:
    model, blocks = _model_and_blocks()
    heads, _ = importance(model, "transact", blocks)
    kept = heads[0].topk(2).indices.sort().values
    rows = (kept.unsqueeze(1) * 8 + torch.arange(8)).flatten()
    expected = model.decoder_blocks()[0].attention.q_proj.weight[rows].clone()
    pruned = transact(model, "transact", 2, 24, rounds=1, calib=blocks, retrain=blocks, retrain_steps=0)
    assert torch.equal(pruned.decoder_blocks()[0].attention.q_proj.weight, expected)
    for method in ("magnitude", "random"):
        other, _ = _model_and_blocks()
        transact(other, method, 1, 12, rounds=2, calib=blocks, retrain=blocks, retrain_steps=2, batch_size=4)
        assert other.config.heads == [1, 1] and other.config.mlp_dims == [12, 12]
    with pytest.raises(ValueError, match="unknown pruning method"):
        importance(model, "nope", blocks)


def _small_gemma() -> GemmaLM:
    """The real Gemma 3 architecture at a toy size: 4 query heads sharing 2 key/value heads."""
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    config = Gemma3TextConfig(
        vocab_size=64, hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, head_dim=8, max_position_embeddings=64, sliding_window=16,
    )  # fmt: skip
    torch.manual_seed(0)
    return GemmaLM(Gemma3ForCausalLM(config), SimpleNamespace(bos_token_id=2, eos_token_id=1)).eval()


def test_gemma_loses_query_heads_per_group_and_keeps_its_keys_and_values() -> None:
    model, blocks = _small_gemma(), torch.randint(0, 64, (3, 17))
    before, kv_before = model(blocks[:, :-1]), model.kv_cache_bytes(10)
    attention, mlp = activation_norms(model, blocks)
    assert [len(a) for a in attention] == [32, 32] and [len(m) for m in mlp] == [48, 48]
    prune(model, [torch.arange(4)] * 2, [torch.arange(48)] * 2)
    assert torch.allclose(model(blocks[:, :-1]), before, atol=1e-5)
    transact(model, "transact", 2, 24, rounds=2, calib=blocks, retrain=blocks, retrain_steps=1, batch_size=2)
    layer = model.model.model.layers[0]
    assert layer.self_attn.q_proj.weight.shape == (16, 32) and layer.self_attn.k_proj.weight.shape == (16, 32)
    assert layer.mlp.down_proj.weight.shape == (32, 24)
    assert geometry(model) == Geometry(head_dim=8, heads=2, kv_heads=2, mlp_dim=24, keeps_kv=True)
    assert model.kv_cache_bytes(10) == kv_before
    assert model(blocks[:, :-1]).shape == (3, 16, 64)
    with pytest.raises(ValueError, match="1 query heads do not split evenly over the model's 2 key/value heads"):
        transact(model, "transact", 1, 24, rounds=1, calib=blocks, retrain=blocks, retrain_steps=0)


@pytest.mark.parametrize(
    ("heads", "mlp", "problem"),
    [(3, 24, "3 query heads do not split evenly over the model's 2 key/value heads"),
     (6, 24, "6 heads and 24 MLP channels do not fit the model's widths (attention 4 heads of 8, MLP 48)"),
     (0, 24, "do not fit"), (2, 49, "do not fit"), (2, 0, "do not fit")],
)  # fmt: skip
def test_targets_that_do_not_fit_gemma_are_named(heads: int, mlp: int, problem: str) -> None:
    shape = geometry(_small_gemma())
    check_targets(shape, 4, 48)  # the model's own widths are a valid target
    with pytest.raises(ValueError, match=re.escape(problem)):
        check_targets(shape, heads, mlp)
