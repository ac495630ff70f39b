"""Fixtures of the sweep tests."""

import pytest
from sweep_fixture import PIX2PIX_GRID, make_sweep


@pytest.fixture
def pix2pix_sweep(tmp_path):
    """A pix2pix sweep folder: l1, l2, patch16 done, no-skip failed; returns (folder, grid)."""
    return make_sweep(tmp_path / "sweep"), PIX2PIX_GRID
