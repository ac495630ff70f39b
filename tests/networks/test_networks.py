"""Generator and discriminator shapes, receptive fields, configs and saving."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from kgan.errors import ConfigError
from kgan.networks import patch_discriminator, resnet_generator, unet_generator


@pytest.mark.parametrize("size", [32, 64, 128, 256, 512])
def test_unet_output_shape_for_every_supported_size(size):
    generator = unet_generator(size, base_filters=4)
    images = np.random.uniform(-1, 1, (3, size, size, 3)).astype("float32")
    out = generator(images)
    assert out.shape == (3, size, size, 3)
    assert float(tf.reduce_max(tf.abs(out))) <= 1.0


def test_unet_accepts_non_square_multiples_of_its_stride():
    generator = unet_generator(32, base_filters=4)
    assert generator(np.zeros((1, 64, 96, 3), "float32")).shape == (1, 64, 96, 3)


@pytest.mark.parametrize("size", [0, 16, 48, 100])
def test_unet_rejects_unsupported_sizes(size):
    with pytest.raises(ConfigError, match="power of two"):
        unet_generator(size)


def test_unet_skip_connections_can_be_switched_off():
    with_skips = unet_generator(32, base_filters=4)
    without = unet_generator(32, base_filters=4, skip_connections=False)
    concat = lambda m: [l for l in m.layers if isinstance(l, keras.layers.Concatenate)]
    assert len(concat(with_skips)) == 4 and not concat(without)
    assert without(np.zeros((2, 32, 32, 3), "float32")).shape == (2, 32, 32, 3)


def test_full_size_networks_have_the_papers_parameter_counts():
    # pix2pix reference implementation: G 54.414M, D (70x70, conditional) 2.769M.
    assert unet_generator(256).count_params() == pytest.approx(54.41e6, rel=1e-3)
    assert patch_discriminator(70).count_params() == pytest.approx(2.769e6, rel=1e-3)


def measured_receptive_field(receptive_field, downsample="strided"):
    """Width of the input region with non-zero gradient for one central output unit."""
    size = 512 if receptive_field == 286 else 128
    disc = patch_discriminator(receptive_field, conditional=False, base_filters=4,
                               downsample=downsample)
    images = tf.Variable(tf.random.stateless_normal((1, size, size, 3), seed=[1, 2]))
    with tf.GradientTape() as tape:
        logits = disc(images, training=False)  # inference BN: no coupling across pixels
        h, w = logits.shape[1] // 2, logits.shape[2] // 2
        unit = logits[0, h, w, 0]
    grad = tf.reduce_sum(tf.abs(tape.gradient(unit, images)), axis=[0, 3]).numpy()
    rows, cols = np.nonzero(grad)
    return rows.max() - rows.min() + 1, cols.max() - cols.min() + 1


@pytest.mark.parametrize("receptive_field", [1, 16, 70, 286])
def test_patch_discriminator_receptive_field_is_the_nominal_one(receptive_field):
    assert measured_receptive_field(receptive_field) == (receptive_field, receptive_field)


def test_antialiased_patch_discriminator_field_grows_by_its_blurs():
    # Each [1, 2, 1] blur before a subsampling adds one pixel at its resolution (documented).
    assert measured_receptive_field(70, "antialias") == (84, 84)


@pytest.mark.parametrize("receptive_field,grid", [(1, 64), (16, 32), (70, 8), (286, 2)])
def test_patch_discriminator_output_grid(receptive_field, grid):
    disc = patch_discriminator(receptive_field, base_filters=4)
    x = np.zeros((3, 64, 64, 3), "float32")
    assert disc([x, x]).shape == (3, grid, grid, 1)


def test_patch_discriminator_rejects_other_receptive_fields():
    with pytest.raises(ConfigError, match="receptive field 34"):
        patch_discriminator(34)


@pytest.mark.parametrize("build", [
    lambda: unet_generator(32, base_filters=4, norm="instance"),
    lambda: patch_discriminator(16, base_filters=4),
    lambda: unet_generator(32, base_filters=4, upsample="resize", downsample="antialias"),
    lambda: resnet_generator(32, n_blocks=1, base_filters=4, upsample="antialias",
                             downsample="antialias"),
    lambda: patch_discriminator(16, base_filters=4, downsample="antialias"),
])
def test_networks_config_json_round_trip_and_keras_save_load(build, tmp_path):
    model = build()
    config = json.loads(json.dumps(model.get_config()))
    clone = model.__class__.from_config(config)
    assert clone.count_params() == model.count_params()

    path = tmp_path / "net.keras"
    model.save(path)
    restored = keras.saving.load_model(path)
    x = np.random.uniform(-1, 1, (1, 32, 32, 3)).astype("float32")
    inputs = x if len(model.inputs) == 1 else [x, x]
    np.testing.assert_allclose(restored(inputs), model(inputs), atol=1e-6)
