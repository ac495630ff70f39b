"""ResNet generator and ReflectionPadding2D: shapes, config round trip, save/load."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from kgan.errors import ConfigError
from kgan.networks import ReflectionPadding2D, resnet_generator


@pytest.fixture(scope="module")
def generator():
    return resnet_generator(32, n_blocks=2, base_filters=8)


def test_reflection_padding_matches_numpy():
    x = np.arange(2 * 4 * 5 * 3, dtype="float32").reshape(2, 4, 5, 3)
    out = ReflectionPadding2D(2)(x)
    expected = np.pad(x, [(0, 0), (2, 2), (2, 2), (0, 0)], mode="reflect")
    np.testing.assert_array_equal(np.asarray(out), expected)
    assert ReflectionPadding2D(2).compute_output_shape((None, 4, None, 3)) == (None, 8, None, 3)


def test_output_shapes_odd_batch_and_non_square(generator):
    x = tf.random.stateless_uniform([3, 32, 48, 3], [1, 2], -1.0, 1.0)
    y = generator(x)
    assert y.shape == (3, 32, 48, 3)
    assert y.dtype == tf.float32
    assert float(tf.reduce_max(tf.abs(y))) <= 1.0


def test_layout_counts_blocks_and_channels():
    model = resnet_generator(64, n_blocks=6, base_filters=4, output_channels=1)
    names = [layer.name for layer in model.layers]
    assert sum(name.endswith("_add") for name in names) == 6
    assert model.get_layer("block0_a_conv").filters == 16  # 4k at the bottleneck
    assert model.output_shape == (None, None, None, 1)
    assert model.name == "resnet_generator_6"


@pytest.mark.parametrize("size", [16, 30, 1024])
def test_rejects_unsupported_sizes(size):
    with pytest.raises(ConfigError, match="multiple of 4"):
        resnet_generator(size)


def test_config_json_round_trip(generator):
    config = json.loads(json.dumps(keras.saving.serialize_keras_object(generator)))
    clone = keras.saving.deserialize_keras_object(config)
    clone.set_weights(generator.get_weights())
    x = tf.random.stateless_uniform([1, 32, 32, 3], [3, 4], -1.0, 1.0)
    np.testing.assert_allclose(clone(x), generator(x), atol=1e-6)


def test_keras_save_load_equal_outputs(generator, tmp_path):
    path = str(tmp_path / "g.keras")
    generator.save(path)
    loaded = keras.saving.load_model(path)
    x = tf.random.stateless_uniform([2, 32, 32, 3], [5, 6], -1.0, 1.0)
    np.testing.assert_allclose(loaded(x), generator(x), atol=1e-6)


def test_two_step_fit_reports_finite_loss(generator):
    x = tf.random.stateless_uniform([4, 32, 32, 3], [7, 8], -1.0, 1.0)
    model = keras.models.clone_model(generator)
    model.compile(optimizer="adam", loss="mae")
    history = model.fit(x, x, batch_size=2, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
