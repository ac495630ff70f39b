"""Shared fixtures: paths to ../shared data and tiny models."""

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

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
