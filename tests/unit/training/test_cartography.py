"""Dataset cartography: the examples a student learns least confidently are the mislabelled ones, and the
filter keeps the same share of every label."""

import numpy as np
import pytest

from retinue.errors import RetinueError
from retinue.training.cartography import keep_most_confident, training_dynamics


def test_cartography_drops_the_mislabelled_examples() -> None:
    rng = np.random.default_rng(0)
    centres = {"negative": np.eye(8)[0] * 3, "positive": np.eye(8)[1] * 3}
    features, labels, wrong = [], [], set()
    for label, other in (("negative", "positive"), ("positive", "negative")):
        for i in range(20):
            mislabelled = i >= 17  # features of the other class under this label
            if mislabelled:
                wrong.add(len(labels))
            features.append(centres[other if mislabelled else label] + rng.normal(0, 0.2, 8))
            labels.append(label)
    dynamics = training_dynamics(np.asarray(features, dtype=np.float32), labels, ["negative", "positive"], epochs=100)
    assert dynamics.confidence.shape == (40,) and (dynamics.variability >= 0).all()
    kept = keep_most_confident(labels, dynamics.confidence, 0.83)
    assert len(kept) == 34 and set(range(40)) - set(kept) == wrong  # ceil(0.83 * 20) = 17 of each label


def test_the_share_is_per_label_and_bounded() -> None:
    labels = ["a", "a", "a", "b"]
    assert keep_most_confident(labels, np.array([0.1, 0.9, 0.5, 0.2]), 0.5) == [1, 2, 3]
    assert keep_most_confident(labels, np.zeros(4), 1.0) == [0, 1, 2, 3]
    with pytest.raises(RetinueError, match="share"):
        keep_most_confident(labels, np.zeros(4), 0)
