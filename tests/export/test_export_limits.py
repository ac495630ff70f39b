"""Serving bounds the work of one image: an oversized image fails its request, not the server."""

import io

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from kgan.export.signatures import serving_module, serving_signatures

STRIDE = 32  # of the unet_generator(32) fixture
MAX_PIXELS = 64 * 64


def encoded(size, format, mode="RGB"):
    buffer = io.BytesIO()
    Image.new(mode, size).save(buffer, format=format)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def small_bound_export(generator, tmp_path_factory):
    """The generator exported with max_pixels = 64 x 64."""
    path = str(tmp_path_factory.mktemp("bounded") / "1")
    module = serving_module(generator, STRIDE, max_pixels=MAX_PIXELS)
    tf.saved_model.save(module, path, signatures=serving_signatures(module))
    return path


@pytest.mark.parametrize("format", ["PNG", "JPEG"])
def test_translate_image_refuses_images_over_the_bound_and_serves_those_within(
        small_bound_export, run_like_tf_serving, format):
    inside = encoded((64, 64), format)
    outputs = run_like_tf_serving(small_bound_export, "translate_image",
                                  {"image_bytes": np.array([inside], object)})
    assert Image.open(io.BytesIO(outputs["image_bytes"][0])).size == (64, 64)
    with pytest.raises(tf.errors.InvalidArgumentError, match="larger than the 4096 pixels"):
        run_like_tf_serving(small_bound_export, "translate_image",
                            {"image_bytes": np.array([inside, encoded((65, 64), format)], object)})


def test_serving_default_refuses_tensors_over_the_bound(small_bound_export, run_like_tf_serving):
    images = np.zeros((1, 2 * STRIDE, 3 * STRIDE, 3), np.float32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="larger than the 4096 pixels"):
        run_like_tf_serving(small_bound_export, "serving_default", {"images": images})


def test_a_20000_px_png_is_refused_by_the_default_export_before_decoding(export_dir,
                                                                       run_like_tf_serving):
    # 400 million pixels in a few hundred KB: decoding it aborted the server (std::bad_alloc).
    huge = encoded((20000, 20000), "PNG", mode="1")
    assert len(huge) < 1_000_000
    with pytest.raises(tf.errors.InvalidArgumentError, match="larger than the 16777216 pixels"):
        run_like_tf_serving(export_dir, "translate_image",
                            {"image_bytes": np.array([huge], object)})


def test_a_png_cut_inside_its_header_fails_alone(export_dir, run_like_tf_serving):
    cut = encoded((32, 32), "PNG")[:20]
    with pytest.raises(tf.errors.InvalidArgumentError):
        run_like_tf_serving(export_dir, "translate_image", {"image_bytes": np.array([cut], object)})
    outputs = run_like_tf_serving(export_dir, "translate_image",
                                  {"image_bytes": np.array([encoded((32, 32), "PNG")], object)})
    assert len(outputs["image_bytes"]) == 1
