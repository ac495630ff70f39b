"""Antialiased and resize sampling: exact binomial kernels, output sizes, no checkerboard."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from kgan.errors import ConfigError
from kgan.networks import (
    DOWNSAMPLING,
    UPSAMPLING,
    BinomialUpsample2D,
    BlurDownsample2D,
    patch_discriminator,
    resnet_generator,
    unet_generator,
)

BLUR = np.outer([1, 2, 1], [1, 2, 1]) / 16.0
UPSAMPLE = np.outer([1, 3, 3, 1], [1, 3, 3, 1]) / 16.0


@pytest.mark.parametrize("layer", [BlurDownsample2D, BinomialUpsample2D])
@pytest.mark.parametrize("shape", [(2, 8, 8, 3), (1, 7, 10, 2)])
def test_a_constant_image_stays_the_same_constant_borders_included(layer, shape):
    images = np.full(shape, -0.7, "float32")
    out = np.asarray(layer()(images))
    if layer is BlurDownsample2D:
        assert out.shape == (shape[0], (shape[1] + 1) // 2, (shape[2] + 1) // 2, shape[3])
    else:
        assert out.shape == (shape[0], 2 * shape[1], 2 * shape[2], shape[3])
    np.testing.assert_allclose(out, -0.7, atol=1e-6, rtol=0)


def test_downsampling_an_impulse_traces_the_121_binomial_kernel():
    # Output (2, 3) reads the 3x3 input window centred on (4, 6); move an impulse over it.
    impulses = np.zeros((9, 9, 11, 1), "float32")
    for n, (k, l) in enumerate(np.ndindex(3, 3)):
        impulses[n, 4 + k - 1, 6 + l - 1, 0] = 1.0
    out = np.asarray(BlurDownsample2D()(impulses))
    np.testing.assert_allclose(out[:, 2, 3, 0], BLUR.ravel(), atol=1e-7, rtol=0)
    # Every input pixel, whatever its phase, passes a quarter of itself on: no phase of the
    # 2x2 sampling grid weighs more than another.
    np.testing.assert_allclose(out.sum(axis=(1, 2, 3)), np.full(9, 0.25), atol=1e-6)


def test_upsampling_an_impulse_gives_the_1331_binomial_response():
    impulse = np.zeros((1, 6, 7, 1), "float32")
    impulse[0, 2, 3, 0] = 1.0
    out = np.asarray(BinomialUpsample2D()(impulse))[0, :, :, 0]
    expected = np.zeros((12, 14))
    expected[3:7, 5:9] = UPSAMPLE  # rows 2*2-1 .. 2*2+2, columns 2*3-1 .. 2*3+2
    np.testing.assert_allclose(out, expected, atol=1e-7, rtol=0)


def test_upsampling_is_bilinear_interpolation_at_half_pixel_centres():
    images = np.random.default_rng(0).uniform(-1, 1, (2, 5, 8, 3)).astype("float32")
    expected = tf.image.resize(images, (10, 16), method="bilinear")  # edges clamped
    np.testing.assert_allclose(BinomialUpsample2D()(images), expected, atol=1e-6, rtol=0)


def test_blur_removes_the_nyquist_pattern_that_strided_sampling_aliases():
    rows, cols = np.indices((8, 12))
    checkerboard = np.where((rows + cols) % 2, 1.0, -1.0).astype("float32")[None, :, :, None]
    stripes = np.where(cols % 2, 1.0, -1.0).astype("float32")[None, :, :, None]
    for pattern in (checkerboard, stripes):
        np.testing.assert_allclose(BlurDownsample2D()(pattern), 0.0, atol=1e-7)
        assert np.all(pattern[:, ::2, ::2] == -1.0)  # what a stride-2 sampling keeps: a constant


@pytest.mark.parametrize("layer", [BlurDownsample2D, BinomialUpsample2D])
def test_layers_config_round_trip_and_symbolic_shapes(layer):
    original = layer(name="resample")
    clone = layer.from_config(json.loads(json.dumps(original.get_config())))
    assert clone.name == "resample" and not clone.weights
    inputs = keras.Input((None, 6, 4))
    assert tuple(clone(inputs).shape) == (None, None, 3 if layer is BlurDownsample2D else 12, 4)


def test_unknown_sampling_options_are_one_line_config_errors():
    for build, kwargs, message in [
        (unet_generator, {"upsample": "bilinear"}, "unknown upsample 'bilinear'"),
        (resnet_generator, {"downsample": "blur"}, "unknown downsample 'blur'"),
        (patch_discriminator, {"downsample": "pool"}, "unknown downsample 'pool'"),
    ]:
        with pytest.raises(ConfigError, match=message) as error:
            build(**kwargs)
        assert "\n" not in str(error.value)


SAMPLINGS = [(up, down) for up in UPSAMPLING for down in DOWNSAMPLING]


@pytest.mark.parametrize("upsample, downsample", SAMPLINGS)
def test_every_sampling_keeps_the_generators_output_size(upsample, downsample):
    sampling = dict(upsample=upsample, downsample=downsample)
    unet = unet_generator(64, base_filters=4, **sampling)
    resnet = resnet_generator(32, n_blocks=1, base_filters=4, **sampling)
    for model, shape in [(unet, (3, 64, 128, 3)), (resnet, (3, 32, 48, 3))]:
        images = np.random.default_rng(1).uniform(-1, 1, shape).astype("float32")
        out = np.asarray(model(images, training=False))
        assert out.shape == shape and np.abs(out).max() <= 1.0


def test_antialiased_unet_at_256_keeps_its_size():
    unet = unet_generator(256, base_filters=2, upsample="antialias", downsample="antialias")
    assert unet(np.zeros((1, 256, 256, 3), "float32")).shape == (1, 256, 256, 3)


def test_antialiased_patch_discriminator_keeps_the_output_grid():
    for receptive_field, grid in [(16, 32), (70, 8), (286, 2)]:
        disc = patch_discriminator(receptive_field, base_filters=4, downsample="antialias")
        x = np.zeros((3, 64, 64, 3), "float32")
        assert disc([x, x]).shape == (3, grid, grid, 1)


def nyquist_fraction(images):
    """Share of the images' variance at the Nyquist frequency of either axis: the energy of
    every pattern that alternates from one pixel to the next, over all of it (DC removed)."""
    x = np.asarray(images, "float64")
    x = x - x.mean(axis=(1, 2), keepdims=True)
    power = np.abs(np.fft.fft2(x, axes=(1, 2))) ** 2
    h, w = x.shape[1] // 2, x.shape[2] // 2
    nyquist = power[:, h, :].sum() + power[:, :, w].sum() - power[:, h, w].sum()
    return nyquist / power.sum()


GENERATORS = {
    # The default norms: the U-Net's batch norm (inference statistics) passes a constant on;
    # the ResNet's instance norm zeroes it, so its pattern grows from the zero-padded borders.
    "unet": lambda upsample: unet_generator(64, base_filters=8, upsample=upsample),
    "resnet": lambda upsample: resnet_generator(64, n_blocks=2, base_filters=8, upsample=upsample),
}


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_a_random_generator_paints_no_period_2_pattern_over_a_constant_input(name):
    # Measured over seeds 0-3: transposed convolutions put 96-98% (U-Net) and 23-36% (ResNet)
    # of the output's variance at the Nyquist frequencies, resize and antialias 0.1-1.1%
    # (white noise: (64 + 64 - 1) / 64**2 = 3.1%).
    constant = np.full((1, 64, 64, 3), 0.5, "float32")
    fractions = {}
    for upsample in UPSAMPLING:
        measured = []
        for seed in range(3):
            keras.utils.set_random_seed(seed)
            out = GENERATORS[name](upsample)(constant, training=False)
            measured.append(nyquist_fraction(out))
        fractions[upsample] = np.mean(measured)
    assert fractions["transpose"] > 0.15, fractions
    for upsample in ("resize", "antialias"):
        assert fractions[upsample] < min(0.02, fractions["transpose"] / 20), fractions
