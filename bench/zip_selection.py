"""ZIP selection: compression ratio of the selection vs random subsets, and selection time, at 1k and 10k items.

The pool: the shared ZIP ShareGPT pool plus AG News test titles and descriptions (1,743 + 7,600 items;
the same news agencies' phrasing repeats, so there is redundancy to avoid). Budgets 1,000 and 8,000
of the 9,343 (10k is more than the pool). ZIP's parameters k1 = 10,000, k2 = 200, k3 = 100 (the
reference defaults). Time per selected item should stay roughly flat as the budget grows.

    python bench/zip_selection.py [--budgets 1000,8000] [--out DIR]
"""

import argparse
import csv
import random
import time
from pathlib import Path

from _report import finish

from retinue.paths import data_root
from retinue.training.zip_select import compression_ratio, load_pool, zip_select


def pool(root: Path) -> list[str]:
    _, texts, _ = load_pool(root / "text" / "zip_pool" / "pool_sharegpt.json")
    with (root / "text" / "ag_news" / "test.csv").open(newline="", encoding="utf-8") as handle:
        texts += [f"{title}\n{body}" for _, title, body in csv.reader(handle)]
    return texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budgets", default="1000,8000")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    texts = pool(data_root())
    report: dict[str, float] = {"pool_items": len(texts)}
    per_item, below = [], True
    for budget in [int(b) for b in args.budgets.split(",")]:
        started = time.perf_counter()
        selection = zip_select(texts, budget)
        seconds = time.perf_counter() - started
        randoms = [compression_ratio(random.Random(seed).sample(texts, budget)) for seed in range(3)]
        per_item.append(seconds / budget)
        below &= selection.ratio < min(randoms)
        print(
            f"budget {budget}: ZIP ratio {selection.ratio:.3f} vs random {sum(randoms) / 3:.3f} "
            f"(min {min(randoms):.3f}); {seconds:.1f} s, {1000 * seconds / budget:.1f} ms per item"
        )
        report |= {
            f"budget_{budget}_zip_ratio": round(selection.ratio, 4),
            f"budget_{budget}_random_ratio": round(sum(randoms) / 3, 4),
            f"budget_{budget}_seconds": round(seconds, 2),
        }
    growth = per_item[-1] / per_item[0]
    report["time_per_item_growth"] = round(growth, 2)
    print(f"time per item, largest vs smallest budget: {growth:.2f}x")
    finish(report, "ZIP ratio below random at every budget; time per item within 2x", below and growth <= 2, args.out)


if __name__ == "__main__":
    main()
