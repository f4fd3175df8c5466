"""Retrieval metrics of visual dialogue, as VisDial reports them: MRR, R@1/5/10 and mean rank of the
ground truth among the candidates, and NDCG over the candidates' relevance."""

import torch


def gt_ranks(scores: torch.Tensor, gt_index: torch.Tensor) -> torch.Tensor:
    """1-based rank of the ground truth in each row of scores (B, C); ties rank in the truth's favour."""
    gt_scores = scores.gather(1, gt_index.unsqueeze(1))
    return (scores > gt_scores).sum(dim=1) + 1


def ndcg(scores: torch.Tensor, relevance: torch.Tensor) -> torch.Tensor:
    """Per row: DCG of the top k candidates by score over the ideal DCG, where k is the number of
    candidates with relevance > 0 (VisDial's definition)."""
    order = scores.argsort(dim=1, descending=True)
    ranked = relevance.gather(1, order)
    ideal = relevance.sort(dim=1, descending=True).values
    discount = 1.0 / torch.log2(torch.arange(scores.shape[1], dtype=torch.float32) + 2)
    k = (relevance > 0).sum(dim=1, keepdim=True)
    within = torch.arange(scores.shape[1]).unsqueeze(0) < k
    dcg = (ranked * discount * within).sum(dim=1)
    best = (ideal * discount * within).sum(dim=1)
    return dcg / best.clamp(min=1e-12)


def summarise(ranks: torch.Tensor, ndcgs: torch.Tensor) -> dict[str, float]:
    ranks = ranks.float()
    return {
        "mrr": round(float((1 / ranks).mean()), 4),
        "r_at_1": round(float((ranks <= 1).float().mean()), 4),
        "r_at_5": round(float((ranks <= 5).float().mean()), 4),
        "r_at_10": round(float((ranks <= 10).float().mean()), 4),
        "mean_rank": round(float(ranks.mean()), 3),
        "ndcg": round(float(ndcgs.mean()), 4),
    }
