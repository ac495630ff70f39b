"""The exported signatures: outputs equal to the generator's, loaded without kgan or Keras."""

import io
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

STRIDE = 32  # of unet_generator(32)


def random_images(shape, seed=0):
    return np.random.default_rng(seed).uniform(-1.0, 1.0, shape).astype("float32")


# Runs in a fresh, isolated interpreter (-I: no cwd or PYTHONPATH on sys.path) where importing
# kgan or keras fails, so the SavedModel must stand on TensorFlow alone.
# Runs in a fresh, isolated interpreter (-I: no cwd or PYTHONPATH on sys.path) where importing
# kgan fails, so the SavedModel must stand on TensorFlow alone. (Keras cannot be blocked too:
# `import tensorflow` 2.21 imports it, for tf.keras.)
LOAD_WITHOUT_KGAN = textwrap.dedent(
    """
    import sys

    class Blocker:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] == "kgan":
                raise ImportError(f"{name} is blocked in this test")

    sys.meta_path.insert(0, Blocker())
    try:
        import kgan
    except ImportError:
        pass
    else:
        raise AssertionError("kgan was importable")
    import numpy as np
    import tensorflow as tf

    export_dir, *paths = sys.argv[1:]
    serve = tf.saved_model.load(export_dir).signatures["serving_default"]
    for path in paths:
        images = tf.constant(np.load(path))
        np.save(path + ".out.npy", serve(images=images)["images"].numpy())
    assert not [name for name in sys.modules if name.split(".")[0] == "kgan"]
    """
)


def test_outputs_equal_generator_in_fresh_process_without_kgan(generator, export_dir, tmp_path):
    shapes = [(3, STRIDE, STRIDE, 3), (1, STRIDE, 2 * STRIDE, 3), (2, 3 * STRIDE, STRIDE, 3)]
    paths = []
    for seed, shape in enumerate(shapes):
        paths.append(str(tmp_path / f"images{seed}.npy"))
        np.save(paths[-1], random_images(shape, seed))
    result = subprocess.run(
        [sys.executable, "-I", "-c", LOAD_WITHOUT_KGAN, os.path.abspath(export_dir), *paths],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for path in paths:
        images = np.load(path)
        expected = generator(images, training=False).numpy()
        output = np.load(path + ".out.npy")
        assert output.shape == images.shape and output.dtype == np.float32
        assert expected.std() > 0.01  # the comparison is not between two constant images
        np.testing.assert_allclose(output, expected, atol=1e-5, rtol=0)


def test_tf_serving_loader_gives_generator_outputs(generator, export_dir, run_like_tf_serving):
    # A Keras model tracked as is saves variables that this loader cannot find.
    images = random_images((2, STRIDE, 2 * STRIDE, 3), seed=4)
    outputs = run_like_tf_serving(export_dir, "serving_default", {"images": images})
    expected = generator(images, training=False).numpy()
    np.testing.assert_allclose(outputs["images"], expected, atol=1e-5, rtol=0)


def _encode(array, format="PNG"):
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format=format)
    return buffer.getvalue()


def _to_uint8(images):
    return np.round(np.clip((images + 1.0) * 127.5, 0, 255)).astype(np.uint8)


def test_translate_image_at_a_valid_size_is_the_quantised_generator_output(generator, loaded):
    pixels = _to_uint8(random_images((STRIDE, 2 * STRIDE, 3), seed=5))
    result = loaded.signatures["translate_image"](image_bytes=tf.constant([_encode(pixels)]))
    png = result["image_bytes"].numpy()[0]
    assert png.startswith(b"\x89PNG")
    output = np.asarray(Image.open(io.BytesIO(png)))
    expected = _to_uint8(generator(pixels[None] / 127.5 - 1.0, training=False).numpy()[0])
    # Pixels on a rounding boundary may differ by one step.
    assert np.abs(output.astype(int) - expected).max() <= 1


@pytest.mark.parametrize(
    "mode, format, size",
    [("RGB", "JPEG", (45, 20)), ("L", "PNG", (33, 70)), ("RGBA", "PNG", (64, 64))],
    ids=["jpeg", "grey-png", "rgba-png"],
)
def test_translate_image_returns_rgb_png_at_input_size(loaded, mode, format, size):
    width, height = size
    image = Image.fromarray(_to_uint8(random_images((height, width, 4), seed=6))).convert(mode)
    data = _encode(np.asarray(image), format)
    result = loaded.signatures["translate_image"](image_bytes=tf.constant([data, data]))
    pngs = result["image_bytes"].numpy()
    assert len(pngs) == 2
    output = Image.open(io.BytesIO(pngs[0]))
    assert output.format == "PNG" and output.mode == "RGB" and output.size == (width, height)


def test_mixed_sizes_in_one_batch(loaded):
    sizes = [(32, 32), (50, 17), (100, 64)]
    data = [_encode(_to_uint8(random_images((h, w, 3), seed=h))) for w, h in sizes]
    pngs = loaded.signatures["translate_image"](image_bytes=tf.constant(data))["image_bytes"]
    assert [Image.open(io.BytesIO(png)).size for png in pngs.numpy()] == sizes



@pytest.mark.parametrize(
    "signature, inputs, message",
    [
        ("serving_default", np.zeros((STRIDE, STRIDE, 3), "float32"), "must be [N, H, W, 3]"),
        ("serving_default", np.zeros((1, 1, STRIDE, STRIDE, 3), "float32"), "[N, H, W, 3]"),
        ("serving_default", np.zeros((1, STRIDE, STRIDE, 4), "float32"), "3 channels"),
        ("serving_default", np.zeros((1, STRIDE, STRIDE, 1), "float32"), "3 channels"),
        ("serving_default", np.zeros((1, 30, STRIDE, 3), "float32"), "multiples of 32"),
        ("serving_default", np.zeros((1, STRIDE, 48, 3), "float32"), "multiples of 32"),
        ("serving_default", np.zeros((0, STRIDE, STRIDE, 3), "float32"), "empty"),
        ("translate_image", np.array([b"not an image"], object), "JPEG or PNG"),
        ("translate_image", np.array([], object), "empty"),
        ("translate_image", np.array([[b"\x89PNG"]], object), "must be a list [N]"),
        ("translate_image", np.array(b"\x89PNG", object), "must be a list [N]"),
        ("translate_image", np.array([b"\x89PNG\r\n\x1a\n truncated"], object), "PNG"),
    ],
    ids=[
        "rank3", "rank5", "4-channels", "1-channel", "height-30", "width-48", "empty-images",
        "not-an-image", "empty-bytes", "bytes-rank2", "bytes-scalar", "truncated-png",
    ],
)
def test_bad_requests_fail_with_clear_message_as_tf_serving_runs_them(
    export_dir, run_like_tf_serving, signature, inputs, message
):
    input_name = "images" if signature == "serving_default" else "image_bytes"
    with pytest.raises(tf.errors.InvalidArgumentError) as raised:
        run_like_tf_serving(export_dir, signature, {input_name: inputs})
    assert message in raised.value.message


def test_bad_requests_fail_with_clear_message_through_the_tf2_api(loaded):
    with pytest.raises(tf.errors.InvalidArgumentError, match="multiples of 32"):
        loaded.signatures["serving_default"](images=tf.zeros((1, STRIDE, 40, 3)))
    with pytest.raises(tf.errors.InvalidArgumentError, match="JPEG or PNG"):
        loaded.signatures["translate_image"](image_bytes=tf.constant([b"GIF89a..."]))
