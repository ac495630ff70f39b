"""The CycleGAN recipe end to end on the real horse2zebra images, plus its options."""

import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from kgan.errors import ConfigError
from kgan.recipes import cyclegan
from kgan.schedules import ConstantThenLinearDecay

from helpers import read_history


@pytest.fixture
def horse2zebra(horse2zebra_dir):
    return str(horse2zebra_dir)


def test_trains_on_horse2zebra_and_resumes(horse2zebra, tmp_path, tiny_args):
    out = tmp_path / "run"
    assert cyclegan.main(tiny_args("cyclegan", data_dir=horse2zebra, out=out)) == 0

    rows = read_history(out)
    assert [row["epoch"] for row in rows] == ["0"]
    for key in ("d_loss", "d_loss_a", "d_loss_b", "g_loss", "g_adv", "g_cycle", "g_identity",
                "l1", "val_g_cycle", "val_l1"):
        assert np.isfinite(float(rows[0][key])), key
    grid = np.asarray(Image.open(out / "samples" / "epoch_001.png"))
    assert grid.shape == (4 * 32, 3 * 32, 3)  # 2 A rows + 2 B rows of real | fake | cycled
    for name in ("generator_ab", "generator_ba"):
        generator = keras.saving.load_model(out / f"{name}.keras")
        assert generator(np.zeros((1, 32, 32, 3), "float32")).shape == (1, 32, 32, 3)
    config = (out / "config.toml").read_text()
    assert config.count("identity-weight = 0.5") == 1 and config.count("cycle-mix = 0.5") == 1

    # Rerunning with more epochs resumes after epoch 1 instead of starting over.
    assert cyclegan.main(tiny_args("cyclegan", data_dir=horse2zebra, out=out, epochs=2)) == 0
    assert [row["epoch"] for row in read_history(out)] == ["0", "1"]
    assert (out / "samples" / "epoch_002.png").exists()
    assert (out / "checkpoints" / "step_000000004" / "model.weights.h5").exists()


def test_refuses_to_resume_with_other_settings(unpaired_dir, tmp_path, tiny_args):
    out = tmp_path / "run"
    assert cyclegan.main(tiny_args("cyclegan", data_dir=unpaired_dir, out=out)) == 0
    with pytest.raises(ConfigError, match="--cycle-weight 10.0, not 3.0"):
        cyclegan.main(tiny_args("cyclegan", data_dir=unpaired_dir, out=out, cycle_weight=3))
    # A run folder from before --cycle-mix existed resumes: the option had its default.
    config = out / "config.toml"
    config.write_text("".join(line for line in config.read_text().splitlines(keepends=True)
                              if not line.startswith("cycle-mix")))
    assert cyclegan.main(tiny_args("cyclegan", data_dir=unpaired_dir, out=out, epochs=2)) == 0
    with pytest.raises(ConfigError, match="--cycle-mix 0.5, not 0.25"):
        cyclegan.main(tiny_args("cyclegan", data_dir=unpaired_dir, out=out, cycle_mix=0.25))


def test_defaults_are_the_papers():
    options = cyclegan.parse_args([])
    assert (options.image_size, options.batch_size, options.epochs, options.decay_epochs) == (256, 1, 200, 100)
    assert (options.gan_loss, options.cycle_loss, options.cycle_weight, options.identity_weight) == ("lsgan", "l1", 10.0, 0.5)
    assert (options.generator, options.patch, options.pool_size, options.lr, options.beta1) == ("resnet9", 70, 50, 2e-4, 0.5)
    assert (options.norm, options.cycle_mix) == ("instance", 0.5)
    assert options.out.endswith("cyclegan_bluemarble")


def test_learning_rate_is_constant_then_decays_to_zero(tiny_args):
    options = cyclegan.parse_args(tiny_args("cyclegan", epochs=4, pool_size=0))
    model = cyclegan.build_model(options, steps_per_epoch=10)
    for optimizer in (model.g_optimizer, model.d_optimizer):
        schedule = optimizer._learning_rate
        assert isinstance(schedule, ConstantThenLinearDecay)
        rates = [float(schedule(step)) for step in (0, 19, 20, 30, 39, 40)]
        assert rates[:2] == pytest.approx([2e-4, 2e-4])
        assert rates[1] > rates[2] > rates[3] > rates[4] > 0.0 == rates[5]
        assert rates[3] == pytest.approx(2e-4 * (1 - 11 / 21))


def test_cycle_mix_reaches_the_cycle_loss(tiny_args):
    options = cyclegan.parse_args(tiny_args("cyclegan", cycle_loss="l1+l2", cycle_mix=0.2))
    model = cyclegan.build_model(options, steps_per_epoch=1)
    target, output = tf.zeros((1, 2, 2, 3)), tf.fill((1, 2, 2, 3), 0.5)
    # 0.2 * L1 + 0.8 * L2 with every pixel off by 0.5: 0.2 * 0.5 + 0.8 * 0.25.
    assert float(model.cycle_loss(target, output)) == pytest.approx(0.3)


@pytest.mark.parametrize("argv, message", [
    (["--pool-size", "-1"], "--pool-size: expected a number >= 0, got -1"),
    (["--cycle-mix", "2"], "--cycle-mix: expected a number in [0, 1], got 2.0"),
])
def test_bad_option_values_exit_2(argv, message, tmp_path):
    result = subprocess.run([sys.executable, "-m", "kgan.recipes.cyclegan", *argv,
                             "--out", str(tmp_path / "run")],
                            capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert message in result.stderr.strip().splitlines()[-1]


def test_decay_epochs_past_the_epochs_is_a_config_error():
    with pytest.raises(ConfigError, match="--decay-epochs"):
        cyclegan.parse_args(["--decay-epochs", "300"])


def test_cli_prints_missing_folder_on_one_line(tmp_path, capsys):
    status = cyclegan.RECIPE.run_cli(["--data-dir", str(tmp_path / "none"),
                                      "--out", str(tmp_path / "o")])
    assert status == 1
    assert capsys.readouterr().err.count("\n") == 1
