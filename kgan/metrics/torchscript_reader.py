"""Read the parameters of a TorchScript archive (`torch.jit.save` output) without torch.

A TorchScript `.pt` file is a zip: `<root>/data.pkl` pickles the module tree (each module a
`__torch__.<path> <Class>` object whose state dict holds its attributes, sub-modules and
tensors), and every tensor's bytes sit in `<root>/data/<key>` (little-endian, C order of
the *storage*; a tensor is a strided view into it). This module replays that pickle with a
restricted unpickler that knows only the handful of globals such files use, so no torch
code (and no arbitrary code from the file) is ever run.
"""

import collections
import pickle
import zipfile

import numpy as np

from kgan.errors import KganError

# torch storage class name -> NumPy dtype of its bytes (little-endian).
STORAGE_DTYPES = {
    "FloatStorage": "<f4",
    "DoubleStorage": "<f8",
    "HalfStorage": "<f2",
    "LongStorage": "<i8",
    "IntStorage": "<i4",
    "ShortStorage": "<i2",
    "CharStorage": "i1",
    "ByteStorage": "u1",
    "BoolStorage": "?",
}


class ScriptModule:
    """One module of the archive: its TorchScript class name and its attributes.

    Attributes:
        type_name: e.g. "__torch__.inceptionv3.Conv2dLayer".
        attributes: dict in the archive's order; values are sub-modules (`ScriptModule`),
            tensors (`np.ndarray`) or plain Python values (ints, lists, bools, None).
    """

    type_name = "__torch__.Module"

    def __init__(self):
        self.attributes = {}

    def __setstate__(self, state):
        self.attributes = dict(state)

    def children(self):
        """The sub-modules, in order, as (name, ScriptModule) pairs."""
        return [(k, v) for k, v in self.attributes.items() if isinstance(v, ScriptModule)]

    def tensors(self, prefix=""):
        """Every tensor under this module as {dotted.path: array}, depth first, in order."""
        found = {}
        for name, value in self.attributes.items():
            if isinstance(value, np.ndarray):
                found[prefix + name] = value
            elif isinstance(value, ScriptModule):
                found.update(value.tensors(prefix + name + "."))
        return found

    def __repr__(self):
        return f"ScriptModule({self.type_name}, {list(self.attributes)})"


class _StorageRef:
    """A storage named in the pickle, read lazily from `data/<key>`."""

    def __init__(self, dtype, key, numel):
        self.dtype, self.key, self.numel = np.dtype(dtype), key, numel


def rebuild_tensor(storage, offset, size, stride, *unused):
    """torch._utils._rebuild_tensor_v2: a strided view of a storage, copied out."""
    itemsize = storage.array.itemsize
    view = np.lib.stride_tricks.as_strided(
        storage.array[offset:], shape=tuple(size), strides=tuple(s * itemsize for s in stride))
    return np.array(view)


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, archive, root):
        super().__init__(file)
        self._archive = archive
        self._root = root
        self._storages = {}
        self._classes = {}

    def find_class(self, module, name):
        if module.startswith("__torch__"):
            # NEWOBJ needs a class: one ScriptModule subclass per TorchScript class name.
            key = f"{module}.{name}"
            if key not in self._classes:
                self._classes[key] = type(name, (ScriptModule,), {"type_name": key})
            return self._classes[key]
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return rebuild_tensor
        if module == "torch" and name in STORAGE_DTYPES:
            return STORAGE_DTYPES[name]
        if module == "torch.jit._pickle" and name in ("build_intlist", "build_doublelist",
                                                      "build_boollist", "build_tensorlist"):
            return list  # typed lists (e.g. a conv's padding [0, 3]) arrive as plain lists
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        raise pickle.UnpicklingError(f"unsupported global {module}.{name} in a TorchScript file")

    def persistent_load(self, pid):
        kind, dtype, key, _location, numel = pid
        if kind != "storage":
            raise pickle.UnpicklingError(f"unsupported persistent id {kind!r}")
        if key not in self._storages:
            ref = _StorageRef(dtype, key, numel)
            raw = self._archive.read(f"{self._root}/data/{key}")
            ref.array = np.frombuffer(raw, dtype=ref.dtype, count=numel)
            self._storages[key] = ref
        return self._storages[key]


def read_torchscript(path):
    """Load the module tree and tensors of a TorchScript archive, without torch.

    Args:
        path: a `.pt` file written by `torch.jit.save`.

    Returns:
        ScriptModule: the root module; tensors are float32/... NumPy arrays in torch's
        layout (e.g. conv kernels [out, in, kh, kw]).

    Raises:
        KganError: the file is missing or is not a TorchScript zip archive.
    """
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as error:
        raise KganError(f"cannot read TorchScript file {path}: {error}") from None
    with archive:
        pickles = [n for n in archive.namelist() if n.endswith("/data.pkl") and n.count("/") == 1]
        if not pickles:
            raise KganError(f"{path} is not a TorchScript archive (no <root>/data.pkl inside)")
        root = pickles[0].split("/")[0]
        with archive.open(pickles[0]) as file:
            return _Unpickler(file, archive, root).load()
