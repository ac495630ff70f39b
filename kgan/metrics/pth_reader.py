"""Read a PyTorch state dict (`torch.save` output, `.pth`) without torch.

`torch.save` has written two formats. Since torch 1.6 it is a zip: `<root>/data.pkl` pickles
the object and each storage's bytes sit in `<root>/data/<key>`. Before that (and still with
`_use_new_zipfile_serialization=False`) it is one stream: pickles of a magic number, a protocol
version and a system-info dict, the object's pickle, the sorted list of storage keys, then
each storage as an int64 element count followed by its bytes. Both pickles name storages
through persistent ids and rebuild tensors with `torch._utils._rebuild_tensor_v2`; a
restricted unpickler replays them knowing only those globals, so no torch code (and no code
from the file) runs.
"""

import collections
import pickle
import zipfile

import numpy as np

from kgan.errors import KganError
from kgan.metrics.torchscript_reader import STORAGE_DTYPES, rebuild_tensor

LEGACY_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL_VERSION = 1001


class _Storage:
    """A storage named in the pickle; `array` is filled from the file once its bytes are read."""

    def __init__(self, dtype, numel):
        self.dtype, self.numel, self.array = np.dtype(dtype), numel, None


class _StorageView:
    """A legacy-format view into a root storage: `numel` elements from `offset`."""

    def __init__(self, root, offset, numel):
        self.root, self.offset, self.numel = root, offset, numel

    @property
    def array(self):
        return self.root.array[self.offset:self.offset + self.numel]


class _PendingTensor:
    """`_rebuild_tensor_v2` arguments, kept until the storage bytes are read (legacy files
    store them after the pickle)."""

    def __init__(self, storage, offset, size, stride, *unused):
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride

    def to_numpy(self):
        return rebuild_tensor(self.storage, self.offset, self.size, self.stride)


def _rebuild_parameter(data, *unused):
    """torch._utils._rebuild_parameter: an nn.Parameter is its tensor here."""
    return data


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, storages):
        super().__init__(file)
        self._storages = storages

    def find_class(self, module, name):
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _PendingTensor
        if module == "torch._utils" and name == "_rebuild_parameter":
            return _rebuild_parameter
        if module == "torch" and name in STORAGE_DTYPES:
            return STORAGE_DTYPES[name]
        raise pickle.UnpicklingError(f"unsupported global {module}.{name} in a state dict")

    def persistent_load(self, pid):
        if pid[0] != "storage":
            raise pickle.UnpicklingError(f"unsupported persistent id {pid[0]!r}")
        _, dtype, key, _location, numel, *view = pid
        storage = self._storages.setdefault(key, _Storage(dtype, numel))
        if view and view[0] is not None:
            _view_key, offset, view_numel = view[0]
            return _StorageView(storage, offset, view_numel)
        return storage


def _load_zip(archive, storages):
    pickles = [n for n in archive.namelist() if n.endswith("/data.pkl") and n.count("/") == 1]
    if not pickles:
        raise pickle.UnpicklingError("no <root>/data.pkl inside the zip")
    root = pickles[0].split("/")[0]
    with archive.open(pickles[0]) as file:
        result = _Unpickler(file, storages).load()
    for key, storage in storages.items():
        raw = archive.read(f"{root}/data/{key}")
        storage.array = np.frombuffer(raw, dtype=storage.dtype, count=storage.numel)
    return result


def _load_legacy(file, storages):
    header = [_Unpickler(file, {}).load() for _ in range(2)]
    if header != [LEGACY_MAGIC_NUMBER, LEGACY_PROTOCOL_VERSION]:
        raise pickle.UnpicklingError("neither a zip nor a legacy torch.save stream")
    _Unpickler(file, {}).load()  # sys_info: a dict of plain values (byte order, type sizes)
    result = _Unpickler(file, storages).load()
    for key in _Unpickler(file, {}).load():
        storage = storages[key]
        numel = int.from_bytes(file.read(8), "little")
        raw = file.read(numel * storage.dtype.itemsize)
        storage.array = np.frombuffer(raw, dtype=storage.dtype, count=numel)
    return result


def read_state_dict(path):
    """Load the tensors of a `.pth` state dict (either `torch.save` format), without torch.

    Args:
        path: a file written by `torch.save(module.state_dict(), path)`.

    Returns:
        dict: parameter name -> NumPy array in torch's layout (conv kernels [out, in, kh, kw]).

    Raises:
        KganError: the file is missing, truncated, or not a state dict of tensors.
    """
    storages = {}
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                result = _load_zip(archive, storages)
        else:
            with open(path, "rb") as file:
                result = _load_legacy(file, storages)
        if not isinstance(result, dict):
            raise pickle.UnpicklingError(f"it holds a {type(result).__name__}, not a dict")
        return {name: tensor.to_numpy() for name, tensor in result.items()
                if isinstance(tensor, _PendingTensor)}
    except (OSError, EOFError, KeyError, ValueError, TypeError, AttributeError, IndexError,
            pickle.UnpicklingError, zipfile.BadZipFile) as error:
        raise KganError(f"cannot read {path} as a PyTorch state dict: {error}") from None
