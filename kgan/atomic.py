"""Atomic writes: a file (or folder) appears complete under its final name, or not at all.

Every writer in kgan goes through `atomic_path`: it hands out a temporary name beside the
target, and renames it into place only when the block finishes without an exception. A
killed process leaves at most a hidden `.tmp-*` entry behind, which `remove_temporaries`
deletes on the next run; readers never see half a file.
"""

import contextlib
import errno
import math
import os
import shutil
import uuid

TEMPORARY_PREFIX = ".tmp-"


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path`; rename it to `path` if the block succeeds.

    The temporary name ends like `path` (".keras", ".weights.h5", ".png"), so writers that
    check the extension accept it. On an exception the temporary file or folder is removed
    and `path` is left as it was.

    Args:
        path: the final file or folder; its parent folder is created when missing.

    Yields:
        str: where to write.
    """
    folder, name = os.path.split(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f"{TEMPORARY_PREFIX}{uuid.uuid4().hex[:12]}-{name}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        _remove(tmp)


def variables_nbytes(variables):
    """Bytes of the values of `variables` (Keras or TensorFlow variables), without reading them."""
    return sum(math.prod(v.shape) * _itemsize(v.dtype) for v in variables)


def _itemsize(dtype):
    name = getattr(dtype, "name", dtype)  # a tf.DType or a Keras dtype string
    return {"bfloat16": 2, "float16": 2, "float64": 8, "int64": 8, "uint8": 1, "bool": 1}.get(
        str(name), 4)


def ensure_free_space(folder, nbytes):
    """Raise `OSError(ENOSPC)` naming `folder` when its file system has under `nbytes` free.

    For writers that a full disk does not fail cleanly: after a failed write HDF5 (Keras'
    `.weights.h5`) raises from the destructors of its objects and crashes the process at exit,
    so the checkpoints check first. `folder` or its nearest existing parent is measured.
    """
    existing = os.path.abspath(folder)
    while not os.path.isdir(existing):
        existing = os.path.dirname(existing)
    free = shutil.disk_usage(existing).free
    if free < nbytes:
        raise OSError(errno.ENOSPC, f"{os.strerror(errno.ENOSPC)} ({free / 2**20:.1f} MiB free, "
                      f"{nbytes / 2**20:.1f} MiB needed)", folder)


def write_bytes(path, data):
    """Write `data` (bytes) to `path` atomically."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(data)


def write_text(path, text):
    """Write `text` (str, UTF-8) to `path` atomically."""
    write_bytes(path, text.encode("utf-8"))


def remove_temporaries(folder):
    """Delete the `.tmp-*` leftovers of writes that were killed in `folder` (not recursive).

    Returns:
        list of str: the paths removed.
    """
    if not os.path.isdir(folder):
        return []
    removed = []
    for entry in os.listdir(folder):
        if entry.startswith(TEMPORARY_PREFIX):
            path = os.path.join(folder, entry)
            _remove(path)
            removed.append(path)
    return removed


def _remove(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        os.remove(path)
