"""The bootstrap interval of FID: its Gram-matrix FID against the covariance one, its spread."""

import numpy as np
import pytest

from kgan.metrics.fid_interval import fid_interval, frechet_distance_of_features
from kgan.metrics.frechet import frechet_distance_from_features


def features(count, dim, shift, seed):
    rng = np.random.default_rng(seed)
    return rng.normal(shift, 1.0, (count, dim)) @ rng.normal(0, 0.3, (dim, dim))


@pytest.mark.parametrize("real_count, fake_count, dim", [(40, 30, 64), (90, 120, 32)])
def test_gram_fid_equals_the_covariance_fid(real_count, fake_count, dim):
    # Fewer images than dimensions (the study's case) and more (the covariances are full rank).
    real, fake = features(real_count, dim, 0.0, 1), features(fake_count, dim, 0.4, 2)
    assert frechet_distance_of_features(real, fake) == pytest.approx(
        frechet_distance_from_features(real, fake), rel=1e-6)


def test_interval_holds_the_measured_fid_and_narrows_with_more_images():
    small = fid_interval(features(30, 16, 0.0, 1), features(30, 16, 0.3, 2))
    large = fid_interval(features(300, 16, 0.0, 1), features(300, 16, 0.3, 2))
    for (low, high), count in ((small, 30), (large, 300)):
        measured = frechet_distance_of_features(features(count, 16, 0.0, 1),
                                                features(count, 16, 0.3, 2))
        assert low < measured < high
    assert large[1] - large[0] < (small[1] - small[0]) / 2
    # Seeded: the same features give the same interval.
    assert fid_interval(features(30, 16, 0.0, 1), features(30, 16, 0.3, 2)) == small


def test_too_few_images_is_an_error():
    with pytest.raises(ValueError, match="at least two images"):
        fid_interval(np.zeros((1, 4)), np.zeros((5, 4)))
