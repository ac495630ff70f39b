"""FID math against scipy reference code, tensorflow-gan and closed-form Gaussians."""

import importlib.util
import sys
import types

import numpy as np
import pytest
import scipy.linalg
import tensorflow as tf

from kgan.errors import KganError
from kgan.metrics.frechet import (FeatureStatistics, feature_statistics, frechet_distance,
                                  frechet_distance_from_features)


def ttur_fid(features_a, features_b):
    """The TTUR reference (fid.py: np.mean / np.cov / scipy.linalg.sqrtm) on whole arrays."""
    mu1, mu2 = features_a.mean(0), features_b.mean(0)
    s1, s2 = np.cov(features_a, rowvar=False), np.cov(features_b, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    diff = mu1 - mu2
    return diff @ diff + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean)


def random_features(seed, n=300, dim=64, shift=0.0):
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(dim, dim)) / np.sqrt(dim)
    return (rng.normal(size=(n, dim)) @ mixing + shift).astype(np.float32)


def test_streaming_statistics_equal_numpy_in_one_pass():
    # A large common offset is where sum/sum-of-squares accumulation would lose digits.
    features = random_features(0, n=257, shift=1000.0).astype(np.float64)
    stats = FeatureStatistics()
    for start in range(0, len(features), 50):  # uneven last batch
        stats.update(features[start:start + 50])
    assert stats.count == 257
    np.testing.assert_allclose(stats.mean, features.mean(0), rtol=1e-12)
    np.testing.assert_allclose(stats.covariance, np.cov(features, rowvar=False), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("method", ["eigh", "sqrtm"])
def test_fid_equals_scipy_reference_code(method):
    a, b = random_features(1), random_features(2, shift=0.3)
    expected = ttur_fid(a.astype(np.float64), b.astype(np.float64))
    assert frechet_distance_from_features(a, b, method=method) == pytest.approx(expected, rel=1e-6)
    batches = (a[i:i + 64] for i in range(0, len(a), 64))
    assert frechet_distance(*feature_statistics(batches), *feature_statistics(b)) == pytest.approx(
        expected, rel=1e-6)


@pytest.mark.parametrize("method", ["eigh", "sqrtm"])
def test_fid_of_two_known_gaussians_is_closed_form(method):
    # Commuting covariances: d^2 = |m1 - m2|^2 + sum_i (sqrt(l1_i) - sqrt(l2_i))^2.
    rng = np.random.default_rng(3)
    rotation, _ = np.linalg.qr(rng.normal(size=(16, 16)))
    l1, l2 = rng.uniform(0.5, 3.0, 16), rng.uniform(0.5, 3.0, 16)
    sigma1, sigma2 = rotation @ np.diag(l1) @ rotation.T, rotation @ np.diag(l2) @ rotation.T
    mu1, mu2 = rng.normal(size=16), rng.normal(size=16)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(l1) - np.sqrt(l2)) ** 2)
    assert frechet_distance(mu1, sigma1, mu2, sigma2, method=method) == pytest.approx(expected, rel=1e-9)
    # 1-D: (m1 - m2)^2 + (s1 - s2)^2.
    assert frechet_distance([1.0], [[4.0]], [-2.0], [[9.0]], method=method) == pytest.approx(10.0)
    assert frechet_distance(mu1, sigma1, mu1, sigma1, method=method) == pytest.approx(0.0, abs=1e-9)


def test_fid_with_fewer_samples_than_dimensions_agrees_between_methods():
    # Rank-deficient covariances: clipped eigenvalues vs TTUR's eps retry / real part.
    a, b = random_features(4, n=20, dim=64), random_features(5, n=20, dim=64)
    value = frechet_distance_from_features(a, b)
    assert value > 0 and value == pytest.approx(frechet_distance_from_features(a, b, "sqrtm"),
                                                rel=1e-4)
    assert frechet_distance_from_features(a, a) == pytest.approx(0.0, abs=1e-4)  # trace ~ 64


def test_statistics_need_two_images():
    stats = FeatureStatistics()
    stats.update(np.zeros((1, 4)))
    with pytest.raises(KganError, match="at least 2 images"):
        stats.covariance


def _load_tfgan_classifier_metrics(monkeypatch, missing):
    """tensorflow_gan/python/eval/classifier_metrics.py alone (the package needs tf.estimator).

    Its imports are stubbed: eval_utils (used only by the streaming variants) and
    tensorflow_probability, whose `stats.covariance` is the biased sample covariance.
    """
    spec = importlib.util.find_spec("tensorflow_gan")
    if spec is None or not spec.submodule_search_locations:
        missing("tensorflow-gan is absent: pip install --no-deps tensorflow-gan==2.1.0")
    path = f"{spec.submodule_search_locations[0]}/python/eval/classifier_metrics.py"

    def biased_covariance(x):
        centred = x - tf.reduce_mean(x, axis=0, keepdims=True)
        return tf.matmul(centred, centred, transpose_a=True) / tf.cast(tf.shape(x)[0], x.dtype)

    tfp = types.ModuleType("tensorflow_probability")
    tfp.stats = types.SimpleNamespace(covariance=biased_covariance)
    names = ["tensorflow_gan", "tensorflow_gan.python", "tensorflow_gan.python.eval"]
    for name in names:
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    eval_utils = types.ModuleType("tensorflow_gan.python.eval.eval_utils")
    monkeypatch.setitem(sys.modules, eval_utils.__name__, eval_utils)
    monkeypatch.setattr(sys.modules["tensorflow_gan.python.eval"], "eval_utils", eval_utils,
                        raising=False)
    monkeypatch.setitem(sys.modules, "tensorflow_probability", tfp)
    module_spec = importlib.util.spec_from_file_location("tfgan_classifier_metrics", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def test_fid_equals_tensorflow_gan(monkeypatch, missing):
    tfgan = _load_tfgan_classifier_metrics(monkeypatch, missing)
    a, b = random_features(6), random_features(7, shift=0.5)
    expected = float(tfgan.frechet_classifier_distance_from_activations(
        tf.constant(a, tf.float64), tf.constant(b, tf.float64)))
    assert frechet_distance_from_features(a, b) == pytest.approx(expected, rel=1e-3)
    assert frechet_distance_from_features(a, b, "sqrtm") == pytest.approx(expected, rel=1e-3)
