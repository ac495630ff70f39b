"""Shared fixtures: paths to ../shared data and tiny models."""

import os
from pathlib import Path

import pytest

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
