"""Test protocols: inference mode, and the paper's dropout with per-image batch statistics."""

import keras
import numpy as np
import pytest

from kgan.metrics.protocol import generate


def _batch_norm_model():
    """BatchNormalization whose moving statistics are far from any image's (mean 5, var 9)."""
    model = keras.Sequential([keras.Input((4, 4, 3)), keras.layers.BatchNormalization()])
    layer = model.layers[0]
    layer.moving_mean.assign(np.full(3, 5.0, np.float32))
    layer.moving_variance.assign(np.full(3, 9.0, np.float32))
    return model


def _images(count=3):
    rng = np.random.default_rng(0)
    return (rng.uniform(-1, 1, (count, 4, 4, 3)) * np.arange(1, count + 1)[:, None, None, None]
            ).astype(np.float32)


def test_inference_uses_the_moving_statistics():
    model, images = _batch_norm_model(), _images()
    outputs = generate(model, images, "inference")
    np.testing.assert_allclose(outputs, (images - 5.0) / np.sqrt(9.0 + 1e-3), rtol=1e-5)


def test_paper_normalises_each_image_by_its_own_statistics_and_restores_the_model():
    model, images = _batch_norm_model(), _images()
    outputs = generate(model, images, "paper")
    # One image per call: each image's channels have mean 0 and variance ~1 on their own.
    np.testing.assert_allclose(outputs.mean(axis=(1, 2)), 0.0, atol=1e-5)
    assert np.all(outputs.var(axis=(1, 2)) > 0.9)
    np.testing.assert_allclose(outputs[1:2], generate(model, images[1:2], "paper"), atol=1e-6)
    layer = model.layers[0]
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer.moving_mean), 5.0)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer.moving_variance), 9.0)


def test_paper_keeps_dropout_on():
    model = keras.Sequential([keras.Input((4, 4, 3)), keras.layers.Dropout(0.5)])
    images = np.ones((2, 4, 4, 3), np.float32)
    np.testing.assert_array_equal(generate(model, images, "inference"), images)
    dropped = generate(model, images, "paper")
    assert set(np.unique(dropped)) == {0.0, 2.0}


def test_unknown_protocol_is_refused():
    with pytest.raises(ValueError, match="inference, paper"):
        generate(_batch_norm_model(), _images(), "eval")
