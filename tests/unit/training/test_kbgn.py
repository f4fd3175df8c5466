"""KBGN's pieces on tiny inputs: the generated dialogues, the metrics against hand-computed rankings, the
model's shapes, masks and gates."""

import math
import random

import numpy as np
import pytest
import torch

from retinue.training.kbgn.dataset import Vocabulary, to_arrays
from retinue.training.kbgn.features import CropEncoder, crops_and_boxes
from retinue.training.kbgn.metrics import gt_ranks, ndcg, summarise
from retinue.training.kbgn.model import KBGN, KBGNConfig, round_batch
from retinue.training.kbgn.scenes import ANSWER_POOL, CANDIDATES, COLOURS, make_dialog, make_dialogs, render


def test_every_round_has_100_distinct_candidates_with_the_truth_most_relevant() -> None:
    for dialog in make_dialogs(20, seed=3):
        for round_ in dialog.rounds:
            assert len(set(round_.candidates)) == CANDIDATES == len(round_.relevance)
            assert round_.relevance[round_.gt_index] == 1.0 and round_.relevance.count(1.0) == 1
    assert [d.caption for d in make_dialogs(5, seed=3)] == [d.caption for d in make_dialogs(5, seed=3)]


def test_it_means_the_object_of_the_conversation_and_the_picture_shows_it() -> None:
    dialog = make_dialog(random.Random(7))
    picture = render(dialog.objects)
    for obj in dialog.objects:  # each object is drawn in its colour at the centre of its box
        x0, y0, x1, y1 = obj.box()
        assert tuple(picture[(y0 + y1) // 2, (x0 + x1) // 2]) == COLOURS[obj.colour]
    subject = dialog.objects[0]  # the caption names it; "it" stays with it until a question moves on
    assert dialog.caption.startswith(f"a {subject.size} {subject.colour} {subject.shape}")
    for round_ in dialog.rounds:
        if "the thing in the" in round_.question:
            place = round_.question.split("the thing in the ")[1].rstrip("?")
            subject = next(o for o in dialog.objects if o.place == place)
        elif round_.question == "what colour is it?":
            assert round_.atomic == subject.colour


def test_ranks_mrr_recall_and_ndcg_match_hand_computed_values() -> None:
    scores = torch.tensor([[0.1, 0.9, 0.5], [0.7, 0.2, 0.4]])
    ranks = gt_ranks(scores, torch.tensor([2, 0]))
    assert ranks.tolist() == [2, 1]
    relevance = torch.tensor([[0.0, 0.5, 1.0], [1.0, 0.0, 0.0]])
    # row 0: k = 2 relevant; by score: 0.5 then 1.0 -> DCG 0.5 + 1/log2(3); ideal 1 + 0.5/log2(3)
    expected = (0.5 + 1 / math.log2(3)) / (1 + 0.5 / math.log2(3))
    assert ndcg(scores, relevance).tolist() == pytest.approx([expected, 1.0])
    summary = summarise(ranks, ndcg(scores, relevance))
    assert summary["mrr"] == 0.75 and summary["r_at_1"] == 0.5 and summary["r_at_5"] == 1.0
    assert summary["mean_rank"] == 1.5


def _tiny_batch() -> tuple[dict[str, torch.Tensor], torch.Tensor, int]:
    dialogs = make_dialogs(3, seed=0)
    vocabulary = Vocabulary.build([t for t, _ in ANSWER_POOL] + [d.caption for d in dialogs] + ["what ?"])
    torch.manual_seed(0)
    arrays = to_arrays(dialogs, vocabulary, CropEncoder().eval())
    tensors = {k: torch.from_numpy(v) for k, v in arrays.items()}
    pool = torch.from_numpy(np.stack([vocabulary.encode(t) for t, _ in ANSWER_POOL]))
    batch = round_batch(tensors, torch.tensor([0, 1, 2]), torch.tensor([0, 3, 5]))
    return batch, pool, len(vocabulary.words)


def test_the_model_scores_every_candidate_and_its_text_graph_holds_only_earlier_rounds() -> None:
    batch, pool, vocab = _tiny_batch()
    assert batch["text_mask"].tolist() == [
        [True, False, False, False, False, False, False],
        [True, True, True, True, False, False, False],
        [True, True, True, True, True, True, False],
    ]
    assert crops_and_boxes(make_dialog(random.Random(0)))[0].shape[1:] == (3, 16, 16)
    model = KBGN(KBGNConfig(vocab_size=vocab, word_dim=8, hidden=16)).eval()
    scores = model(batch, pool)
    assert scores.shape == (3, CANDIDATES) and torch.isfinite(scores).all()


@torch.no_grad()
def test_bridges_skip_padded_regions_and_the_gates_are_what_the_ablations_say() -> None:
    batch, pool, vocab = _tiny_batch()
    torch.manual_seed(0)
    model = KBGN(KBGNConfig(vocab_size=vocab, word_dim=8, hidden=16)).eval()
    hidden = 16
    question = model.text_encoder(batch["question"])
    text = model.text_encoder(batch["text"])
    vision = torch.relu(model.region_projection(batch["regions"]))
    _, beta = model.knowledge_storage.text_bridge(text, batch["text_mask"], vision, batch["region_mask"], question)
    assert (beta * ~batch["region_mask"].unsqueeze(1)).abs().sum() == 0  # no bridge to a missing region
    assert beta[batch["text_mask"]].sum(dim=-1).tolist() == pytest.approx([1.0] * int(batch["text_mask"].sum()))
    _, gate = model.knowledge_retrieval(question, torch.zeros(3, hidden), torch.zeros(3, hidden))
    assert ((gate > 0) & (gate < 1)).all()
    fixed = KBGN(KBGNConfig(vocab_size=vocab, word_dim=8, hidden=16, retrieval_gate=False)).eval()
    _, gate = fixed.knowledge_retrieval(question, torch.zeros(3, hidden), torch.zeros(3, hidden))
    assert (gate == 0.5).all()
    blind = KBGN(KBGNConfig(vocab_size=vocab, word_dim=8, hidden=16, question_only=True)).eval()
    changed = {**batch, "regions": torch.randn_like(batch["regions"]), "text": torch.zeros_like(batch["text"])}
    assert torch.equal(blind(batch, pool), blind(changed, pool))  # the baseline sees the question only
