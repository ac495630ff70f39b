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


def history(out):
    with open(out / "history.csv", newline="") as f:
        return list(csv.DictReader(f))


def assert_finite_history(out):
    rows = history(out)
    assert rows and all(math.isfinite(float(v)) for row in rows for k, v in row.items() if k != "epoch")


def test_pix2pix_mixed_precision_with_xla(tmp_path, tiny_args):
    out = tmp_path / "run"
    argv = tiny_args("pix2pix", mixed_precision=True, jit_compile=True, out=out)
    assert pix2pix.main(argv) == 0
    config = (out / "config.toml").read_text()
    assert "mixed-precision = true" in config and "jit-compile = true" in config
    assert keras.mixed_precision.global_policy().name == "float32"  # restored after the run
    assert_finite_history(out)
    generator = keras.models.load_model(out / "generator.keras")
    output = np.asarray(generator(np.zeros((1, 32, 32, 3), "float32")), "float32")
    assert np.isfinite(output).all()


def test_cyclegan_mixed_precision(tmp_path, tiny_args):
    out = tmp_path / "run"
    assert cyclegan.main(tiny_args("cyclegan", batch_size=4, mixed_precision=True, out=out)) == 0
    assert "mixed-precision = true" in (out / "config.toml").read_text()
    assert keras.mixed_precision.global_policy().name == "float32"
    assert_finite_history(out)


@pytest.mark.parametrize("recipe", ["pix2pix", "cyclegan"])
def test_recipe_on_two_replicas_trains_resumes_and_exports(recipe, tmp_path, tiny_args):
    """Two logical CPUs stand in for two GPUs (configured before TensorFlow starts, so in a
    fresh process); the recipe is told they are its training devices."""
    out, exports = tmp_path / "run", tmp_path / "savedmodels"
    script = textwrap.dedent(f"""
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        from kgan.recipes import common, {recipe} as recipe
        common.training_devices = lambda: ["/cpu:0", "/cpu:1"]
        argv = {tiny_args(recipe, batch_size=4, out=out, export="tiny", export_base=exports)!r}
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
