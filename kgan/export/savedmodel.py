"""Write a generator as a SavedModel in TF Serving's layout `BASE/NAME/VERSION/`.

TF Serving watches `BASE/NAME/` and serves the highest integer VERSION it finds. Versions are
named, numbered and written atomically by `kgan.export.versions`: the server (and anyone else)
never sees a half-written version, and an existing version is never replaced.
"""

import os

import keras
import tensorflow as tf

from kgan.errors import KganError
from kgan.export.signatures import (
    DEFAULT_MAX_PIXELS,
    check_exportable,
    serving_module,
    serving_signatures,
)
from kgan.export.versions import claim_version, list_versions, validate_name, writing_version

__all__ = ["export_generator", "list_versions", "max_pixels_of", "resolve_export",
           "validate_name", "with_precision"]


def max_pixels_of(loaded):
    """The `max_pixels` bound a loaded export records (the default for older exports)."""
    recorded = getattr(loaded, "max_pixels", None)
    return DEFAULT_MAX_PIXELS if recorded is None else int(recorded.numpy())


def resolve_export(path):
    """Find the SavedModel at `path`: a version folder, or a model folder (latest version).

    Args:
        path: `BASE/NAME/VERSION` or `BASE/NAME`.

    Returns:
        str: the folder holding `saved_model.pb`.
    """
    if os.path.isfile(os.path.join(path, "saved_model.pb")):
        return path
    if not os.path.isdir(path):
        raise KganError(f"no exported model at {path}: export one with python -m kgan.export")
    versions = list_versions(path)
    if not versions:
        raise KganError(f"{path} holds no version folder (NAME/1, NAME/2, ...) with a SavedModel")
    latest = os.path.join(path, str(versions[-1]))
    if not os.path.isfile(os.path.join(latest, "saved_model.pb")):
        raise KganError(f"{latest} has no saved_model.pb: it is not a SavedModel")
    return latest


def export_generator(
    model, base_dir="savedmodels", name=None, version=None, stride=None, image_size=None,
    max_pixels=None,
):
    """Export a generator with its serving signatures to `base_dir/name/version/`.

    Signatures (loading needs only TensorFlow, not kgan):
        `serving_default`: `images` float32 [N, H, W, 3] in [-1, 1] -> `images` same shape in
            [-1, 1]; H and W multiples of `stride`.
        `translate_image`: `image_bytes` string [N] of JPEG/PNG files -> `image_bytes` string
            [N] of PNG files at each input's size.

    Args:
        model: Keras generator, float32 [N, H, W, 3] in [-1, 1] -> same shape in [-1, 1].
        base_dir: folder of all exports (TF Serving's model base paths are `base_dir/name`).
        name: model name, 1-64 of letters, digits, '_', '-', '.'.
        version: integer >= 1; None takes the next free one (1 for a new name).
        stride: H and W of inputs must be multiples of this; None counts the generator's
            strided layers (`generator_stride`).
        image_size: square size to which `translate_image` resizes images; None resizes each
            side to its nearest multiple of `stride`.
        max_pixels: the largest image (height x width) the signatures accept (default
            4096 x 4096); recorded in the export as the variable `max_pixels`, which
            `kgan.translate` checks before sending an image.

    Returns:
        str: the version folder written.

    Raises:
        KganError: bad name or version, the version exists already, `base_dir` is a file,
            the model has non-finite weights or is not an image-to-image generator of the
            given stride (or `image_size` is not a multiple of it).
    """
    final_dir = claim_version(base_dir, name, version)
    stride = check_exportable(model, stride, image_size)
    max_pixels = DEFAULT_MAX_PIXELS if max_pixels is None else int(max_pixels)
    module = serving_module(model, stride, image_size, max_pixels=max_pixels)
    module.max_pixels = tf.Variable(max_pixels, dtype=tf.int64, trainable=False,
                                    name="max_pixels")
    # The temporary is a dot-name beside the version: TF Serving ignores it.
    with writing_version(final_dir) as tmp_dir:
        # os.mkdir, unlike tempfile.mkdtemp (0700), leaves the version readable as umask allows.
        os.mkdir(tmp_dir)
        try:
            tf.saved_model.save(module, tmp_dir, signatures=serving_signatures(module))
        except tf.errors.OpError as error:  # a full disk, a folder made read-only...
            raise KganError(f"cannot write {final_dir}: {_reason(error)}") from None
    return final_dir


def _reason(error):
    """The OS's words in a TensorFlow file error: "PATH; No space left on device [Op:SaveV2]"
    -> "No space left on device"."""
    line = (error.message.strip().splitlines() or [type(error).__name__])[-1]
    return line.rsplit("; ", 1)[-1].split(" [Op:")[0]


def with_precision(model, precision):
    """A copy of the functional generator `model` that computes in `precision`.

    Every layer takes the dtype policy `precision` (one of `kgan.precision.PRECISIONS`)
    except the output layers, which stay float32 as the networks build them; the weights
    (float32 under every policy) are copied. The result is what an export traced from it
    computes, whatever precision the model was trained in.
    """
    def clone(layer):
        config = layer.get_config()
        if layer.name not in model.output_names and not isinstance(layer, keras.layers.InputLayer):
            config["dtype"] = precision
        return layer.__class__.from_config(config)

    copy = keras.models.clone_model(model, clone_function=clone)
    copy.set_weights(model.get_weights())
    return copy
