"""Names and versions of exports: `BASE/NAME/VERSION/` (SavedModel), `BASE/NAME/VERSION.onnx`
and `BASE/NAME/VERSION.tflite`.

TF Serving watches `BASE/NAME/` and serves the highest whole-number folder; it ignores files,
so the ONNX and LiteRT files of a model can sit beside its SavedModel versions. Each format
counts its own versions. A version is written under a hidden temporary name beside it and
renamed into place (`kgan.atomic`), so nobody sees a half-written one, and an existing
version is never replaced.
"""

import contextlib
import os
import re

from kgan.atomic import atomic_path, remove_temporaries
from kgan.errors import KganError

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


def next_version(model_dir, extension=""):
    """The version after every `<whole number><extension>` entry of `model_dir`, folders or
    not: a stray file named `1` is not a SavedModel version, but not one to write over either.
    """
    if not os.path.isdir(model_dir):
        return 1
    numbers = [entry[:len(entry) - len(extension)] for entry in os.listdir(model_dir)
               if entry.endswith(extension)]
    return max([int(number) for number in numbers if number.isdigit()] or [0]) + 1


def claim_version(base_dir, name, version=None, extension=""):
    """The path of a new version of `name`: `base_dir/name/version<extension>`.

    Removes the temporaries a killed export left in `base_dir/name`; writes nothing.

    Args:
        base_dir: folder of all exports.
        name: model name, 1-64 of letters, digits, '_', '-', '.'.
        version: integer >= 1; None takes the next free one of this extension.
        extension: "" for a SavedModel folder, ".onnx" or ".tflite" for a file.

    Raises:
        KganError: bad name or version, the version exists already, or `base_dir` (or
            `base_dir/name`) is a file.
    """
    validate_name(name)
    model_dir = os.path.join(base_dir, name)
    for parent in (base_dir, model_dir):
        if os.path.exists(parent) and not os.path.isdir(parent):
            raise KganError(f"{parent} is a file, not a folder: pick another --export-base")
    remove_temporaries(model_dir)
    if version is None:
        version = next_version(model_dir, extension)
    elif isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise KganError(f"invalid version {version!r}: use a whole number >= 1")
    path = os.path.join(model_dir, f"{version}{extension}")
    if os.path.exists(path):
        raise KganError(f"{path} exists already: pick another --version or leave it out")
    return path


@contextlib.contextmanager
def writing_version(path):
    """Yield a temporary path beside `path`, renamed to `path` when the block succeeds.

    A model folder this write created is removed again when the block fails, so a failed
    first export leaves nothing behind.

    Raises:
        KganError: `path` appeared while the block ran (another export took the version).
    """
    model_dir = os.path.dirname(path)
    created_model_dir = not os.path.isdir(model_dir)
    try:
        with atomic_path(path) as tmp:
            yield tmp
            if os.path.exists(path):
                raise KganError(f"{path} appeared while exporting: export again")
    except BaseException:
        if created_model_dir and os.path.isdir(model_dir) and not os.listdir(model_dir):
            os.rmdir(model_dir)
        raise
