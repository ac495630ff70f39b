"""The JAX half of the tests that compare the backends: a script of this folder run in a
subprocess with KERAS_BACKEND=jax (the suite itself runs on TensorFlow)."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

import kgan

TESTS = Path(__file__).parents[1]


def run_under_jax(script, folder, missing):
    """Run `python tests/backends/SCRIPT FOLDER` on JAX's CPU backend, with the kgan under
    test (this checkout's) and tests/ first on its path; return FOLDER/jax.npz as a dict.

    Args:
        missing: the `missing` fixture (jax absent: skip, or fail under CI).
    """
    if importlib.util.find_spec("jax") is None:
        missing("jax is a test dependency: pip install jax")
    path = os.pathsep.join([str(Path(kgan.__file__).parents[1]), str(TESTS)])
    env = dict(os.environ, PYTHONPATH=path, KERAS_BACKEND="jax", TF_CPP_MIN_LOG_LEVEL="3",
               JAX_PLATFORMS="cpu")
    done = subprocess.run([sys.executable, str(TESTS / "backends" / script), str(folder)],
                          capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(np.load(Path(folder) / "jax.npz"))
