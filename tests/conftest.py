"""Shared fixtures: paths to ../shared data and tiny models."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATASETS = REPO.parent / "shared" / "datasets"


@pytest.fixture
def facades_dir():
    """The real facades images (pix2pix layout); skipped where ../shared is absent."""
    path = SHARED_DATASETS / "facades"
    if not (path / "train").is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing in CI: ../shared must sit beside the checkout")
        pytest.skip(f"{path} is absent (../shared is not beside this checkout)")
    return path


@pytest.fixture
def horse2zebra_dir():
    """The real horse2zebra images (trainA/ trainB/ testA/ testB/); skipped where absent."""
    path = SHARED_DATASETS / "horse2zebra"
    if not (path / "trainA").is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing in CI: ../shared must sit beside the checkout")
        pytest.skip(f"{path} is absent (../shared is not beside this checkout)")
    return path
