"""Write a generator as a SavedModel in TF Serving's layout `BASE/NAME/VERSION/`.

TF Serving watches `BASE/NAME/` and serves the highest integer VERSION it finds. A version is
written into a hidden temporary folder beside it and renamed into place (`kgan.atomic`), so
the server (and anyone else) never sees a half-written version, and an existing version is
never replaced.
"""

import os
import re

import tensorflow as tf

from kgan.atomic import atomic_path
from kgan.errors import KganError
from kgan.export.signatures import (
    check_generator,
    generator_stride,
    serving_module,
    serving_signatures,
)

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def validate_name(name):
    """Return `name` if it is a valid model name, else raise KganError."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise KganError(
            f"invalid model name {name!r}: use 1-64 letters, digits, '_', '-' or '.', "
            "starting with a letter or digit"
        )
    return name


def list_versions(model_dir):
    """Sorted integer versions present in `model_dir` (folders named by a whole number)."""
    if not os.path.isdir(model_dir):
        return []
    return sorted(
        int(entry)
        for entry in os.listdir(model_dir)
        if entry.isdigit() and os.path.isdir(os.path.join(model_dir, entry))
    )


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
    model, base_dir="savedmodels", name=None, version=None, stride=None, image_size=None
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

    Returns:
        str: the version folder written.

    Raises:
        KganError: bad name or version, the version exists already, or the model is not an
            image-to-image generator of the given stride.
    """
    validate_name(name)
    model_dir = os.path.join(base_dir, name)
    if version is None:
        version = (list_versions(model_dir) or [0])[-1] + 1
    elif isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise KganError(f"invalid version {version!r}: use a whole number >= 1")
    final_dir = os.path.join(model_dir, str(version))
    if os.path.exists(final_dir):
        raise KganError(f"{final_dir} exists already: pick another --version or leave it out")

    stride = generator_stride(model) if stride is None else int(stride)
    check_generator(model, stride)
    module = serving_module(model, stride, image_size)

    created_model_dir = not os.path.isdir(model_dir)
    try:
        # The temporary is a dot-name beside the version: TF Serving ignores it.
        with atomic_path(final_dir) as tmp_dir:
            # os.mkdir, unlike tempfile.mkdtemp (0700), leaves the version readable as umask
            # allows.
            os.mkdir(tmp_dir)
            tf.saved_model.save(module, tmp_dir, signatures=serving_signatures(module))
            if os.path.exists(final_dir):
                raise KganError(f"{final_dir} appeared while exporting: export again")
    except BaseException:
        if created_model_dir and os.path.isdir(model_dir) and not os.listdir(model_dir):
            os.rmdir(model_dir)
        raise
    return final_dir
