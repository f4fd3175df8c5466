"""The small-LM toolkit on tiny inputs: tokenizer, decoder, packing, schedule, training and saving."""

from pathlib import Path

import pytest
import torch

from retinue.errors import RetinueError
from retinue.training.lm.data import pack, split_documents
from retinue.training.lm.model import DecoderConfig, DecoderLM
from retinue.training.lm.tokenizer import BOS, BYTES, EOS, ByteTokenizer
from retinue.training.lm.train import learning_rate, load_lm, perplexity, save_lm, train_lm

TINY = DecoderConfig(dim=32, head_dim=8, heads=[2, 3], mlp_dims=[40, 24], max_seq=32)


def test_bytes_round_trip_italian_text() -> None:
    text = "La febbre è salita a 39°, più del previsto."
    assert BYTES.decode(BYTES.encode(text)) == text and max(BYTES.encode(text)) < 256


def test_the_decoder_is_causal_and_its_widths_are_per_layer() -> None:
    torch.manual_seed(0)
    model = DecoderLM(TINY).eval()
    tokens = torch.randint(0, 256, (2, 16))
    logits = model(tokens)
    assert logits.shape == (2, 16, TINY.vocab_size)
    changed = tokens.clone()
    changed[:, 10:] = 7
    assert torch.allclose(model(changed)[:, :10], logits[:, :10], atol=1e-5)  # no token sees a later one
    assert [b.attention.q_proj.out_features for b in model.blocks] == [16, 24]
    assert [b.mlp.down_proj.in_features for b in model.blocks] == [40, 24]
    assert model.kv_cache_bytes(seq=10) == 2 * 5 * 8 * 10 * 2


def test_documents_are_packed_between_bos_and_eos_into_blocks() -> None:
    blocks = pack(["ab", "cde"], seq=3)
    assert blocks.tolist() == [[BOS, 97, 98, EOS], [BOS, 99, 100, 101]]  # the last EOS does not fill a block
    assert pack(["x" * 100], seq=9, max_blocks=3).shape == (3, 10)
    with pytest.raises(RetinueError, match="too little text"):
        pack(["a"], seq=50)

    class BosFirst(ByteTokenizer):
        bos_first = True

    assert pack(["ab", "cde"], seq=3, tokenizer=BosFirst()).tolist() == [[BOS, 97, 98, EOS], [BOS, 99, 100, 101]]
    assert pack(["abcdef"], seq=3, tokenizer=BosFirst()).tolist() == [[BOS, 97, 98, 99], [BOS, 100, 101, 102]]
    train, held = split_documents([str(i) for i in range(20)], 0.1, seed=1)
    assert len(held) == 2 and not set(train) & set(held)


def test_warmup_then_cosine_to_a_tenth() -> None:
    rates = [learning_rate(s, 100, 1.0, 10) for s in range(100)]
    assert rates[0] == pytest.approx(0.1) and rates[9] == pytest.approx(1.0)
    assert rates[10] == pytest.approx(1.0) and rates[-1] == pytest.approx(0.1, abs=0.01)
    assert all(a >= b for a, b in zip(rates[10:], rates[11:], strict=False))


def test_training_lowers_perplexity_and_a_saved_model_gives_the_same_logits(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = DecoderLM(TINY)
    blocks = pack(["il paziente ha la febbre. " * 40] * 4, seq=31)
    before = perplexity(model, blocks)
    losses = train_lm(model, blocks, 60, batch_size=8, peak_lr=1e-2, warmup=5)
    after = perplexity(model, blocks)
    assert after < before / 3 and losses[-1] < losses[0]
    save_lm(model, tmp_path / "lm", {"task": "test"})
    loaded, card = load_lm(tmp_path / "lm")
    assert card["config"]["heads"] == [2, 3]
    assert torch.equal(loaded(blocks[:1, :-1]), model.eval()(blocks[:1, :-1]))
