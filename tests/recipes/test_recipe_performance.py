"""The recipes' accelerator paths, run on the CPU: precisions, XLA, several replicas."""

import math
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from kgan.precision import default_precision
from kgan.recipes import pix2pix

from helpers import read_history


def assert_finite_history(out):
    rows = read_history(out)
    assert rows and all(math.isfinite(float(v)) for row in rows for k, v in row.items() if k != "epoch")


def test_pix2pix_mixed_float16_with_xla(tmp_path, tiny_args, capsys):
    out = tmp_path / "run"
    argv = tiny_args("pix2pix", precision="mixed_float16", jit_compile=True, out=out)
    assert pix2pix.main(argv) == 0
    assert "precision: mixed_float16" in capsys.readouterr().out
    config = (out / "config.toml").read_text()
    assert 'precision = "mixed_float16"' in config and "jit-compile = true" in config
    assert keras.mixed_precision.global_policy().name == "float32"  # restored after the run
    assert_finite_history(out)
    generator = keras.models.load_model(out / "generator.keras")
    assert generator.get_layer("down1_conv").compute_dtype == "float16"  # as trained
    output = np.asarray(generator(np.zeros((1, 32, 32, 3), "float32")), "float32")
    assert np.isfinite(output).all()


def test_default_precision_is_resolved_printed_and_recorded(tmp_path, tiny_args, capsys):
    out = tmp_path / "run"
    assert pix2pix.main(tiny_args("pix2pix", out=out)) == 0
    expected = default_precision()
    assert f"precision: {expected}" in capsys.readouterr().out
    assert f'precision = "{expected}"' in (out / "config.toml").read_text()


def test_precision_may_change_on_resume(tmp_path, tiny_args):
    out = tmp_path / "run"
    assert pix2pix.main(tiny_args("pix2pix", precision="float32", out=out)) == 0
    argv = tiny_args("pix2pix", precision="mixed_bfloat16", epochs=2, out=out)
    assert pix2pix.main(argv) == 0
    assert [row["epoch"] for row in read_history(out)] == ["0", "1"]


def test_unknown_precision_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        pix2pix.parse_args(["--precision", "bfloat16"])
    assert exit_info.value.code == 2


@pytest.mark.parametrize("recipe", ["pix2pix"])  # CycleGAN on replicas: models/test_distributed.py
def test_recipe_on_two_replicas_trains_resumes_and_exports(recipe, tmp_path, tiny_args):
    """Two logical CPUs stand in for two GPUs (configured before TensorFlow starts, so in a
    fresh process); the recipe is told they are its training devices."""
    out, exports = tmp_path / "run", tmp_path / "savedmodels"
    script = textwrap.dedent(f"""
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        from kgan.recipes import distribution, {recipe} as recipe
        distribution.training_devices = lambda: ["/cpu:0", "/cpu:1"]
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
    assert [row["epoch"] for row in read_history(out)] == ["0", "1"]
    assert_finite_history(out)
    assert sorted(os.listdir(exports / "tiny")) == ["1", "2"]
