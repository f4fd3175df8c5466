"""KBGN vs its ablations on one generated visual-dialogue set: the full model, without the cross-modal
bridges, without the adaptive retrieval gate, and the question-only baseline, each trained with the same
seed and epochs and scored on the same validation dialogs. Target: the full model's MRR above the
question-only baseline's (ratio > 1).

    python bench/kbgn_ablations.py [--train 2000] [--val 400] [--epochs 8] [--seed 0] [--out DIR]
"""

import argparse
import tempfile
import time
from pathlib import Path

from _report import finish

from retinue.training.kbgn.dataset import load_split, make_dataset
from retinue.training.kbgn.train import ABLATIONS, evaluate, train_kbgn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", type=int, default=2000)
    parser.add_argument("--val", type=int, default=400)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    report: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        make_dataset(folder, args.train, args.val, args.seed)
        train, val = load_split(folder, "train"), load_split(folder, "val")
        print(f"{'model':<14} {'MRR':>6} {'R@1':>6} {'R@5':>6} {'R@10':>6} {'mean rank':>9} {'NDCG':>6} {'seconds':>8}")
        for ablation in ABLATIONS:
            started = time.perf_counter()
            model = train_kbgn(train, ablation, args.epochs, seed=args.seed)
            seconds = time.perf_counter() - started
            m = evaluate(model, val)
            print(
                f"{ablation:<14} {m['mrr']:>6.4f} {m['r_at_1']:>6.4f} {m['r_at_5']:>6.4f} {m['r_at_10']:>6.4f} "
                f"{m['mean_rank']:>9.3f} {m['ndcg']:>6.4f} {seconds:>8.1f}"
            )
            report |= {f"{ablation}_{key}": value for key, value in m.items()} | {f"{ablation}_seconds": seconds}
    ratio = report["full_mrr"] / report["question-only_mrr"]
    report["full_over_question_only_mrr"] = round(ratio, 3)
    print(f"full / question-only MRR: {ratio:.3f}")
    finish(report, "full model's MRR above the question-only baseline's", ratio > 1, args.out)


if __name__ == "__main__":
    main()
