"""Export a generator as an ONNX or a LiteRT file: `BASE/NAME/VERSION.onnx|.tflite`.

Both files hold the generator alone: float32 NHWC images in [-1, 1] in (`images`), the same
out (`translated`), any batch, height and width that are multiples of its stride, computed in
float32. Compared with the SavedModel's `translate_image` signature they drop the image files
(no JPEG/PNG decoding or PNG encoding), the resizing to multiples of the stride and back, and
the checks in the graph (stride, channels, `max_pixels`): the caller sends valid arrays. They
keep those settings as a JSON metadata entry `kgan` (`stride`, `image_size`, `max_pixels`,
`weights`), from which `kgan.translate` does all of it around them
(`kgan.export.runners.ArrayRunner`).

Before a file is written, its runtime (ONNX Runtime, the LiteRT interpreter) translates a
probe image, and the file is refused unless that matches the Keras generator within
`TOLERANCES[weights]`.
"""

import math

import numpy as np
import tensorflow as tf

from kgan.errors import KganError
from kgan.export.runners import INPUT_NAME, OUTPUT_NAME
from kgan.export.savedmodel import with_precision
from kgan.export.signatures import (
    DEFAULT_MAX_PIXELS,
    MIN_PROBE_SIDE,
    check_exportable,
    walk_layers,
)
from kgan.export.versions import claim_version, writing_version

FORMATS = ("savedmodel", "onnx", "litert")
# The file formats, and the extensions their versions take.
EXTENSIONS = {"onnx": ".onnx", "litert": ".tflite"}
# The largest difference from the Keras generator (outputs in [-1, 1]) the export accepts on
# its probe image. float16 weights measured well below: see README, Serving.
TOLERANCES = {"float32": 1e-4, "float16": 1e-2}


def generator_function(generator):
    """The traced generator the converters read.

    Returns:
        `tf.function`: `images` float32 [N, H, W, 3] in [-1, 1] (N, H, W dynamic) ->
        `{"translated": float32 [N, H, W, 3] in [-1, 1]}`.
    """
    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32,
                                                name=INPUT_NAME)])
    def translate(images):
        return {OUTPUT_NAME: tf.cast(generator(images, training=False), tf.float32)}

    return translate


def float32_generator(model):
    """`model` if every layer computes in float32, else a float32 copy (`with_precision`)."""
    mixed = any(layer.dtype_policy.compute_dtype != "float32" for layer in walk_layers(model))
    return with_precision(model, "float32") if mixed else model


def convert(model, format_name, metadata, weights="float32"):
    """The bytes of `model` as an ONNX (`format_name` "onnx") or LiteRT ("litert") file."""
    function = generator_function(model)
    if format_name == "onnx":
        from kgan.export.onnx_file import onnx_bytes
        return onnx_bytes(function, metadata)
    from kgan.export.litert_file import litert_bytes
    variables = tf.Module()
    # The raw tf.Variables (as `serving_module` does): the converter folds them into constants.
    variables.generator_variables = [variable.value for variable in model.variables]
    return litert_bytes(function, variables, metadata, weights)


def open_bytes(data, format_name, name):
    """The runner (`kgan.export.runners.ArrayRunner`) of an ONNX or LiteRT file's bytes."""
    if format_name == "onnx":
        from kgan.export.onnx_file import OnnxRunner
        return OnnxRunner(data, name=name)
    from kgan.export.litert_file import LiteRTRunner
    return LiteRTRunner(data, name=name)


def probe_difference(model, runner, stride):
    """Largest |runner - Keras| on a seeded probe image of [-1, 1] noise, [1, S, 2 S, 3] with
    S the smallest multiple of `stride` >= 32 (non-square, as `check_generator`'s)."""
    side = stride * math.ceil(MIN_PROBE_SIDE / stride)
    probe = np.random.default_rng(0).uniform(-1.0, 1.0, (1, side, 2 * side, 3)).astype(np.float32)
    expected = np.asarray(model(probe, training=False), np.float32)
    return float(np.max(np.abs(runner.translate(probe) - expected)))


def export_file(model, format_name, base_dir="savedmodels", name=None, version=None, stride=None,
                image_size=None, max_pixels=None, weights="float32"):
    """Export a generator to `base_dir/name/version.onnx` or `.tflite`.

    Args:
        model: Keras generator, float32 [N, H, W, 3] in [-1, 1] -> same shape in [-1, 1], in
            any precision: the file computes in float32.
        format_name: "onnx" or "litert".
        base_dir: folder of all exports.
        name: model name, 1-64 of letters, digits, '_', '-', '.'.
        version: integer >= 1; None takes the next free one of this format.
        stride: H and W of inputs must be multiples of this; None counts the generator's
            strided layers.
        image_size: square size to which `kgan.translate` resizes images (recorded in the
            metadata); None resizes each side to its nearest multiple of `stride`.
        max_pixels: the largest image (height x width) `kgan.translate` sends (recorded in the
            metadata; default 4096 x 4096).
        weights: "float32"; for LiteRT also "float16".

    Returns:
        str: the file written.

    Raises:
        KganError: what `export_generator` refuses, a missing extra, a converter failure,
            `weights` the format does not offer, or a file whose probe output differs from
            the Keras generator's by more than `TOLERANCES[weights]`.
    """
    if weights != "float32" and format_name != "litert":
        raise KganError(f"--weights {weights} is for --format litert only: {format_name} "
                        "exports keep float32 weights")
    path = claim_version(base_dir, name, version, EXTENSIONS[format_name])
    model = float32_generator(model)
    stride = check_exportable(model, stride, image_size)
    metadata = {
        "stride": stride,
        "image_size": image_size,
        "max_pixels": DEFAULT_MAX_PIXELS if max_pixels is None else int(max_pixels),
        "weights": weights,
    }
    data = convert(model, format_name, metadata, weights)
    difference = probe_difference(model, open_bytes(data, format_name, path), stride)
    if not difference <= TOLERANCES[weights]:
        raise KganError(f"{path} not written: on a probe image it differs from the Keras "
                        f"generator by {difference:.3g}, over the {TOLERANCES[weights]} allowed "
                        f"for {weights} weights")
    with writing_version(path) as tmp, open(tmp, "wb") as file:
        file.write(data)
    return path
