"""Shared fixtures: paths to ../shared data, tiny data folders and the arguments of tiny runs."""

import os
from pathlib import Path

# Before NumPy loads OpenBLAS. One BLAS thread per process (subprocesses inherit it): the
# suite runs two pytest workers on two cores (README), and FID's 2048 x 2048 matrix square
# roots with a thread per core in each worker slow both down several times.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402


REPO = Path(__file__).resolve().parents[1]
SHARED_DATASETS = REPO.parent / "shared" / "datasets"


def _missing(reason):
    """Skip a test whose requirement is absent; under CI (`CI` set) fail instead, since CI
    must run every test."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must run every test", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def missing():
    """`missing(reason)`: skip (fail under CI) for an absent test requirement."""
    return _missing


def _shared_dataset(name, marker):
    path = SHARED_DATASETS / name
    if not (path / marker).is_dir():
        _missing(f"{path} is absent (../shared is not beside this checkout)")
    return path


@pytest.fixture(scope="session")
def facades_dir():
    """The real facades images (pix2pix layout: train/ val/ test/ of A|B JPEGs)."""
    return _shared_dataset("facades", "train")


@pytest.fixture(scope="session")
def horse2zebra_dir():
    """The real horse2zebra images (trainA/ trainB/ testA/ testB/)."""
    return _shared_dataset("horse2zebra", "trainA")


@pytest.fixture
def unpaired_dir(tmp_path):
    """trainA/ trainB/ testA/ testB/ of 8 random 40x40 PNGs: a fast stand-in for real data."""
    rng = np.random.default_rng(0)
    for folder in ("trainA", "trainB", "testA", "testB"):
        (tmp_path / "data" / folder).mkdir(parents=True)
        for i in range(8):
            pixels = rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / "data" / folder / f"{i}.png")
    return str(tmp_path / "data")


# 32 px, 8 filters, 16x16 PatchGANs, two steps of one epoch, grids of two examples.
TINY = {"image-size": 32, "base-filters": 8, "patch": 16, "steps-per-epoch": 2, "epochs": 1,
        "samples": 2}
TINY_MODEL = {
    "pix2pix": {"batch-size": 4},
    "cyclegan": {"generator": "resnet6", "pool-size": 2},
    "cut": {"generator": "resnet6"},
}


def _tiny_args(recipe, **options):
    """Command-line arguments of a tiny run of `recipe` ("pix2pix", "cyclegan" or "cut").

    `options` (underscores for dashes) replace or add to the tiny ones: `epochs=2`,
    `out=path`, `jit_compile=True` for a flag, `steps_per_epoch=None` to leave one out.
    """
    values = {**TINY, **TINY_MODEL[recipe],
              **{key.replace("_", "-"): value for key, value in options.items()}}
    argv = []
    for key, value in values.items():
        if value is True:
            argv.append(f"--{key}")
        elif value is not None:
            argv += [f"--{key}", str(value)]
    return argv


@pytest.fixture(scope="session")
def tiny_args():
    """`tiny_args(recipe, **options)`: the argument list of a tiny run (see `_tiny_args`)."""
    return _tiny_args
