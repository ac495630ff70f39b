"""Runners: translate image files through an export, whatever its format.

`kgan.export.open_runner` picks one by the path (ONNX and LiteRT runners live beside their
exporters, in `onnx_file.py` and `litert_file.py`). Each runner's `translate_file(data)`
takes a JPEG or PNG file and returns a PNG file of the translated image at the input's size.

The SavedModel does all of it in its `translate_image` signature. ONNX and LiteRT files hold
the generator alone (float32 [N, H, W, 3] in [-1, 1] -> same), so their runners decode,
resize, check and encode around it with the very TensorFlow ops of that signature
(`kgan.export.signatures`), reading the stride, the resizing and the `max_pixels` bound from
the file's `kgan` metadata.
"""

import json

import numpy as np
import tensorflow as tf

from kgan.errors import KganError
from kgan.export.cli import error_reason
from kgan.export.savedmodel import max_pixels_of, resolve_export
from kgan.export.signatures import checked_images, decode_for_generator, encode_translated

# The names of the generator's input and output in ONNX and LiteRT files (ONNX needs two).
INPUT_NAME, OUTPUT_NAME = "images", "translated"
# The key of the metadata entry (JSON) in ONNX and LiteRT files.
METADATA_KEY = "kgan"


class ImageError(Exception):
    """One image could not be translated; the message says why, in one line."""


class Runner:
    """Translates image files through one export; `max_pixels` bounds height x width."""

    max_pixels = None

    def translate_file(self, data):
        """bytes of a JPEG or PNG file -> bytes of a PNG file of its translation, same size.

        Raises:
            ImageError: not a JPEG or PNG file, larger than `max_pixels`, or the runtime
                failed on it.
        """
        raise NotImplementedError


class SavedModelRunner(Runner):
    """The `translate_image` signature of a SavedModel export (TensorFlow only)."""

    def __init__(self, path):
        export_dir = resolve_export(path)
        loaded = tf.saved_model.load(export_dir)
        if "translate_image" not in loaded.signatures:
            raise KganError(f"{export_dir} has no translate_image signature: export it with kgan")
        self._translate_image = loaded.signatures["translate_image"]
        self.max_pixels = max_pixels_of(loaded)

    def translate_file(self, data):
        try:
            pngs = self._translate_image(image_bytes=tf.constant([data]))["image_bytes"]
        except tf.errors.OpError as error:
            raise ImageError(error_reason(error)) from None
        return pngs[0].numpy()


class ArrayRunner(Runner):
    """A runtime that runs the generator alone on float32 arrays; subclasses give `load`,
    `run`, `format_name` ("onnx", "litert") and `kind` ("an ONNX model").

    Args:
        model: path of the file, or its bytes.
        name: how errors name the model (default: the path).

    Raises:
        KganError: the format's extra is not installed, the file cannot be loaded, or it has
            no `kgan` metadata (`stride`, `image_size`, `max_pixels`).
    """

    format_name = kind = None

    def __init__(self, model, name=None):
        name = name or model
        try:
            metadata = parse_metadata(self.load(model), name, self.format_name)
        except KganError:
            raise
        except Exception as error:  # noqa: BLE001 - the runtimes' errors share no base class.
            raise KganError(f"cannot load {name} as {self.kind}: {error_reason(error)}") from None
        self.stride = int(metadata["stride"])
        self.image_size = metadata.get("image_size")
        self.max_pixels = int(metadata["max_pixels"])
        self.metadata = metadata
        self._decode = tf.function(
            lambda data: decode_for_generator(data, self.stride, self.image_size, self.max_pixels),
            input_signature=[tf.TensorSpec([], tf.string)])
        self._encode = tf.function(encode_translated, input_signature=[
            tf.TensorSpec([1, None, None, 3], tf.float32), tf.TensorSpec([2], tf.int32)])
        # Traced, so that a failed check reads as the SavedModel's ("assertion failed: ...").
        self._check = tf.function(
            lambda images: checked_images(images, self.stride, self.max_pixels),
            input_signature=[tf.TensorSpec([None, None, None, None], tf.float32)])

    def load(self, model):
        """Load the file (path or bytes) into the runtime; return its `kgan` metadata (JSON
        text, None when absent)."""
        raise NotImplementedError

    def run(self, images):
        """float32 NumPy [N, H, W, 3] in [-1, 1] -> the generator's float32 [N, H, W, 3] in
        [-1, 1]; H and W multiples of `stride` (unchecked: see `translate`)."""
        raise NotImplementedError

    def translate(self, images):
        """`run` after the checks of the SavedModel's `serving_default`.

        Raises:
            ImageError: not [N, H, W, 3], an empty batch, H or W not multiples of `stride`,
                or H x W over `max_pixels`.
        """
        images = np.asarray(images, np.float32)
        if images.ndim != 4:
            raise ImageError(f"images must be [N, H, W, 3], got shape {images.shape}")
        try:
            images = self._check(images).numpy()
        except tf.errors.OpError as error:
            raise ImageError(error_reason(error)) from None
        try:
            return self.run(images)
        except Exception as error:  # noqa: BLE001 - each runtime has its own error types.
            raise ImageError(f"{type(self).__name__} failed: {error_reason(error)}") from None

    def translate_file(self, data):
        try:
            image, size = self._decode(tf.constant(data))
        except tf.errors.OpError as error:
            raise ImageError(error_reason(error)) from None
        return self._encode(tf.constant(self.translate(image.numpy())), size).numpy()


def parse_metadata(text, path, format_name):
    """The `kgan` metadata (JSON `text`, None when absent) of the export at `path`.

    Raises:
        KganError: absent or unreadable: the file was not written by `kgan.export`.
    """
    try:
        metadata = json.loads(text)
        int(metadata["stride"]), int(metadata["max_pixels"])
    except (TypeError, ValueError, KeyError):
        raise KganError(f"{path} has no kgan metadata (stride, max_pixels): export it with "
                        f"python -m kgan.export --format {format_name}") from None
    return metadata
