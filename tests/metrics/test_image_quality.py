"""PSNR/SSIM: hand-computed values, known cases and a NumPy SSIM of Wang et al.'s formula."""

import numpy as np
import pytest
import scipy.signal
import tensorflow as tf

from kgan.metrics.image_quality import psnr, ssim


def constant(value, shape=(1, 16, 16, 3)):
    return np.full(shape, value, np.float32)


def test_psnr_hand_values():
    # [-1, 1] values 0 and 0.5 are 127.5 and 191.25 in uint8 units: MSE 63.75^2.
    expected = 10 * np.log10(255.0 ** 2 / 63.75 ** 2)  # = 12.0412 dB
    assert float(psnr(constant(0.0), constant(0.5))[0]) == pytest.approx(expected, abs=1e-4)
    assert float(psnr(constant(-1.0), constant(1.0))[0]) == pytest.approx(0.0, abs=1e-6)
    assert np.isinf(psnr(constant(0.3), constant(0.3))[0])


def test_psnr_is_per_image():
    targets = np.concatenate([constant(0.0), constant(0.0)])
    outputs = np.concatenate([constant(0.5), constant(-1.0)])
    got = psnr(targets, outputs).numpy()
    assert got.shape == (2,)
    assert got[1] == pytest.approx(10 * np.log10(1 / 0.25), abs=1e-4)  # error 0.5 in [0, 1]


def test_ssim_of_constant_images_is_the_luminance_term():
    # sigma = 0: SSIM = (2 mx my + C1) / (mx^2 + my^2 + C1) in [0, 1] units, C1 = 0.01^2.
    # Computing in [-1, 1] directly would give a different number (the term is not
    # shift invariant), which is why images are mapped to [0, 1] first.
    mx, my, c1 = 0.5, 0.75, 0.01 ** 2
    expected = (2 * mx * my + c1) / (mx ** 2 + my ** 2 + c1)  # 0.92309...
    assert float(ssim(constant(0.0), constant(0.5))[0]) == pytest.approx(expected, abs=1e-6)


def numpy_ssim(x, y):
    """Wang et al. 2004 on [0, 1] images: Gaussian 11x11, sigma 1.5, valid windows, channel mean."""
    g = np.exp(-0.5 * ((np.arange(11) - 5) / 1.5) ** 2)
    window = np.outer(g, g) / np.outer(g, g).sum()
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    values = []
    for c in range(x.shape[-1]):
        a, b = x[..., c].astype(np.float64), y[..., c].astype(np.float64)
        f = lambda z: scipy.signal.convolve2d(z, window, mode="valid")
        ma, mb = f(a), f(b)
        va, vb, cov = f(a * a) - ma ** 2, f(b * b) - mb ** 2, f(a * b) - ma * mb
        m = ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma ** 2 + mb ** 2 + c1) * (va + vb + c2))
        values.append(m.mean())
    return np.mean(values)


def test_ssim_equals_numpy_formula_on_noisy_images():
    rng = np.random.default_rng(0)
    clean = np.clip(rng.normal(0, 0.4, (2, 32, 24, 3)), -1, 1).astype(np.float32)
    noisy = np.clip(clean + rng.normal(0, 0.2, clean.shape), -1, 1).astype(np.float32)
    got = ssim(clean, noisy).numpy()
    expected = [numpy_ssim((clean[i] + 1) / 2, (noisy[i] + 1) / 2) for i in range(2)]
    np.testing.assert_allclose(got, expected, atol=1e-6)
    assert float(ssim(clean, clean)[0]) == pytest.approx(1.0, abs=1e-6)
    # The same definition as TensorFlow's (float32) implementation, up to its round-off.
    reference = tf.image.ssim((clean + 1) / 2, (noisy + 1) / 2, max_val=1.0).numpy()
    np.testing.assert_allclose(got, reference, atol=1e-4)


def test_ssim_rejects_images_smaller_than_the_window():
    with pytest.raises(ValueError, match="at least 11x11"):
        ssim(constant(0.0, (1, 8, 8, 3)), constant(0.0, (1, 8, 8, 3)))
