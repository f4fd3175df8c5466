"""TransAct on a tiny decoder: importance from calibration activations matches a direct computation, the
head score, the linear schedule, and pruned models with the asked (physically smaller) shapes."""

import pytest
import torch

from retinue.training.lm.model import DecoderConfig, DecoderLM
from retinue.training.lm.transact import activation_norms, head_scores, importance, prune, transact, widths

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
    keep_all = prune(model, [torch.arange(4)] * 2, [torch.arange(48)] * 2).eval()
    assert torch.allclose(keep_all(blocks[:, :-1]), model(blocks[:, :-1]), atol=1e-6)
    smaller = prune(model, [torch.tensor([0, 2])] * 2, [torch.arange(0, 48, 2)] * 2)
    block = smaller.decoder_blocks()[0]
    assert block.attention.q_proj.weight.shape == (16, 32) and block.attention.o_proj.weight.shape == (32, 16)
    assert block.mlp.gate_proj.weight.shape == (24, 32) and block.mlp.down_proj.weight.shape == (32, 24)
    assert torch.equal(block.attention.q_proj.weight[8:], model.decoder_blocks()[0].attention.q_proj.weight[16:24])
    assert smaller.kv_cache_bytes(10) == model.kv_cache_bytes(10) // 2
    assert smaller(blocks[:, :-1]).shape == (6, 16, TINY.vocab_size)


def test_transact_keeps_the_highest_scoring_heads_and_reaches_the_targets() -> None:
    model, blocks = _model_and_blocks()
    heads, channels = importance(model, "transact", blocks)
    pruned = transact(model, "transact", 2, 24, rounds=1, calib=blocks, retrain=blocks, retrain_steps=0)
    kept = heads[0].topk(2).indices.sort().values
    rows = (kept.unsqueeze(1) * 8 + torch.arange(8)).flatten()
    assert torch.equal(
        pruned.decoder_blocks()[0].attention.q_proj.weight, model.decoder_blocks()[0].attention.q_proj.weight[rows]
    )
    for method in ("magnitude", "random"):
        other = transact(model, method, 1, 12, rounds=2, calib=blocks, retrain=blocks, retrain_steps=2)
        assert other.config.heads == [1, 1] and other.config.mlp_dims == [12, 12]
    with pytest.raises(ValueError, match="unknown pruning method"):
        importance(model, "nope", blocks)
