"""Improved precision/recall against a brute-force NumPy reading of the paper's definition."""

import numpy as np
import pytest

from kgan.errors import KganError
from kgan.metrics.precision_recall import knn_radii, precision_recall


def brute_force_precision_recall(real, fake, k):
    """Kynkaanniemi et al. 2019, eq. 1-3, with explicit differences in float64."""
    real, fake = real.astype(np.float64), fake.astype(np.float64)

    def radii(points):
        d = np.linalg.norm(points[:, None, :] - points[None, :, :], axis=-1)
        return np.array([np.sort(row)[k] for row in d])  # row[0] is the point itself

    def inside(samples, centres, r):
        d = np.linalg.norm(samples[:, None, :] - centres[None, :, :], axis=-1)
        return np.mean([(d[i] <= r).any() for i in range(len(samples))])

    return inside(fake, real, radii(real)), inside(real, fake, radii(fake))


@pytest.mark.parametrize("k", [1, 3, 5])
def test_precision_recall_equal_brute_force(k):
    rng = np.random.default_rng(k)
    real = rng.normal(size=(120, 16)).astype(np.float32)
    fake = (rng.normal(size=(90, 16)) * 1.3 + 0.4).astype(np.float32)
    # A tiny block bound forces many row blocks (3 rows each): batching must not change anything.
    got = precision_recall(real, fake, k=k, max_block_elements=400)
    expected = brute_force_precision_recall(real, fake, k)
    assert got == pytest.approx(expected, abs=1e-12)
    assert 0.0 < got[0] < 1.0  # a non-trivial case: some fakes inside, some outside


def test_knn_radii_equal_sorted_distances():
    rng = np.random.default_rng(0)
    points = rng.normal(size=(50, 8)).astype(np.float32)
    d = np.linalg.norm(points[:, None] - points[None], axis=-1)
    np.testing.assert_allclose(knn_radii(points, k=3, max_block_elements=64), np.sort(d, 1)[:, 3],
                               rtol=1e-4, atol=1e-4)


def test_a_set_against_itself_is_perfect_and_far_sets_score_zero():
    rng = np.random.default_rng(1)
    real = rng.normal(size=(100, 32)).astype(np.float32)
    assert precision_recall(real, real) == (1.0, 1.0)
    assert precision_recall(real, real + 100.0) == (0.0, 0.0)


def test_mode_collapse_keeps_precision_and_loses_recall():
    rng = np.random.default_rng(2)
    real = rng.normal(size=(200, 4)).astype(np.float32)
    collapsed = real[real[:, 0] > 1.0]  # realistic samples from one corner only
    precision, recall = precision_recall(real, collapsed)
    assert precision == 1.0 and recall < 0.5


def test_too_few_images_is_a_kgan_error():
    with pytest.raises(KganError, match="more than 3 images"):
        precision_recall(np.zeros((3, 2)), np.zeros((10, 2)))
