"""The recipes' accelerator paths, run on the CPU: mixed precision, XLA, several replicas."""

import csv
import math
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from kgan.recipes import cyclegan, pix2pix

TINY = ["--image-size", "32", "--base-filters", "8", "--patch", "16", "--batch-size", "4",
        "--steps-per-epoch", "2", "--samples", "2", "--epochs", "1"]


def history(out):
    with open(out / "history.csv", newline="") as f:
        return list(csv.DictReader(f))


def assert_finite_history(out):
    rows = history(out)
    assert rows and all(math.isfinite(float(v)) for row in rows for k, v in row.items() if k != "epoch")


def test_pix2pix_mixed_precision_with_xla(tmp_path):
    out = tmp_path / "run"
    assert pix2pix.main([*TINY, "--mixed-precision", "--jit-compile", "--out", str(out)]) == 0
    assert keras.mixed_precision.global_policy().name == "float32"  # restored after the run
    assert_finite_history(out)
    generator = keras.models.load_model(out / "generator.keras")
    output = np.asarray(generator(np.zeros((1, 32, 32, 3), "float32")), "float32")
    assert np.isfinite(output).all()


def test_cyclegan_mixed_precision(tmp_path):
    out = tmp_path / "run"
    argv = [*TINY, "--generator", "resnet6", "--pool-size", "4", "--mixed-precision",
            "--out", str(out)]
    assert cyclegan.main(argv) == 0
    assert keras.mixed_precision.global_policy().name == "float32"
    assert_finite_history(out)


@pytest.mark.parametrize("recipe, extra", [
    ("pix2pix", []),
    ("cyclegan", ["--generator", "resnet6", "--pool-size", "4"]),
])
def test_recipe_on_two_replicas_trains_resumes_and_exports(recipe, extra, tmp_path):
    """Two logical CPUs stand in for two GPUs (configured before TensorFlow starts, so in a
    fresh process); the recipe is told they are its training devices."""
    out, exports = tmp_path / "run", tmp_path / "savedmodels"
    script = textwrap.dedent(f"""
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        from kgan.recipes import common, {recipe} as recipe
        common.training_devices = lambda: ["/cpu:0", "/cpu:1"]
        argv = {TINY + extra!r} + ["--out", {str(out)!r}, "--export", "tiny",
                                   "--export-base", {str(exports)!r}]
        assert recipe.main(argv) == 0
        argv[argv.index("--epochs") + 1] = "2"
        assert recipe.main(argv) == 0
    """)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("training on 2 devices (MirroredStrategy)") == 2
    assert "resuming" in result.stdout
    assert [row["epoch"] for row in history(out)] == ["0", "1"]
    assert_finite_history(out)
    assert sorted(os.listdir(exports / "tiny")) == ["1", "2"]
