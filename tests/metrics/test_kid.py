"""KID against TF-GAN's `kernel_classifier_distance_and_std_from_activations` and by definition."""

import numpy as np
import pytest
import tensorflow as tf

from kgan.metrics.kid import kernel_inception_distance
from test_frechet import _load_tfgan_classifier_metrics


def _features(seed, count, dim=64, shift=0.0):
    return np.random.default_rng(seed).normal(shift, 1.0, (count, dim))


@pytest.mark.parametrize("real_count, fake_count, block", [(40, 40, 1000), (37, 53, 1000),
                                                          (90, 61, 20), (64, 64, 16)])
def test_kid_equals_tensorflow_gan(monkeypatch, missing, real_count, fake_count, block):
    tfgan = _load_tfgan_classifier_metrics(monkeypatch, missing)
    real, fake = _features(0, real_count), _features(1, fake_count, shift=0.3)
    expected_kid, expected_std = (float(x) for x in
                                  tfgan.kernel_classifier_distance_and_std_from_activations(
                                      tf.constant(real), tf.constant(fake), max_block_size=block))
    kid, kid_std = kernel_inception_distance(real, fake, max_block_size=block)
    assert kid == pytest.approx(expected_kid, rel=1e-5)
    if np.isnan(expected_std):
        assert np.isnan(kid_std)
    else:
        assert kid_std == pytest.approx(expected_std, rel=1e-5)


def test_kid_is_the_unbiased_mmd_by_definition():
    real, fake = _features(2, 5, dim=3), _features(3, 4, dim=3, shift=1.0)

    def kernel(x, y):
        return (x @ y / 3 + 1) ** 3

    same_real = np.mean([kernel(real[i], real[j]) for i in range(5) for j in range(5) if i != j])
    same_fake = np.mean([kernel(fake[i], fake[j]) for i in range(4) for j in range(4) if i != j])
    across = np.mean([kernel(r, f) for r in real for f in fake])
    kid, _ = kernel_inception_distance(real, fake)
    assert kid == pytest.approx(same_real + same_fake - 2 * across, rel=1e-12)


def test_kid_is_near_zero_for_one_distribution_and_grows_with_the_shift():
    real = _features(4, 300)
    same = kernel_inception_distance(real, _features(5, 300))[0]
    shifted = kernel_inception_distance(real, _features(5, 300, shift=0.5))[0]
    assert abs(same) < 0.02 * shifted


def test_kid_refuses_mismatched_or_too_few_features():
    with pytest.raises(ValueError, match="one D"):
        kernel_inception_distance(np.zeros((4, 3)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="at least two images per block"):
        kernel_inception_distance(np.zeros((1, 3)), np.zeros((4, 3)))
