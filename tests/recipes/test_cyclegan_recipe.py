"""The CycleGAN recipe end to end on the real horse2zebra images, plus its options."""

import csv

import keras
import numpy as np
import pytest
from PIL import Image

from kgan.errors import ConfigError
from kgan.recipes import cyclegan
from kgan.schedules import ConstantThenLinearDecay

TINY = ["--image-size", "32", "--base-filters", "8", "--generator", "resnet6", "--patch", "16",
        "--steps-per-epoch", "3", "--samples", "2", "--pool-size", "4"]


@pytest.fixture
def horse2zebra(horse2zebra_dir):
    return str(horse2zebra_dir)


def history_rows(out):
    with open(out / "history.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_trains_on_horse2zebra_and_resumes(horse2zebra, tmp_path):
    out = tmp_path / "run"
    argv = ["--data-dir", horse2zebra, "--out", str(out), "--epochs", "1", *TINY]
    assert cyclegan.main(argv) == 0

    rows = history_rows(out)
    assert [row["epoch"] for row in rows] == ["0"]
    for key in ("g_loss", "d_a_loss", "d_b_loss", "cycle_loss", "identity_loss", "adv_loss",
                "val_cycle_loss", "val_l1"):
        assert np.isfinite(float(rows[0][key])), key
    grid = np.asarray(Image.open(out / "samples" / "epoch_001.png"))
    assert grid.shape == (4 * 32, 3 * 32, 3)  # 2 A rows + 2 B rows of real | fake | cycled
    for name in ("generator_ab", "generator_ba"):
        generator = keras.saving.load_model(out / f"{name}.keras")
        assert generator(np.zeros((1, 32, 32, 3), "float32")).shape == (1, 32, 32, 3)
    assert (out / "config.toml").read_text().count("identity-weight = 0.5") == 1

    # Rerunning with more epochs resumes after epoch 1 instead of starting over.
    assert cyclegan.main(argv[:4] + ["--epochs", "2", *TINY]) == 0
    assert [row["epoch"] for row in history_rows(out)] == ["0", "1"]
    assert (out / "samples" / "epoch_002.png").exists()
    assert (out / "checkpoints" / "epoch_002.weights.h5").exists()


def test_refuses_to_resume_with_other_settings(horse2zebra, tmp_path):
    out = tmp_path / "run"
    argv = ["--data-dir", horse2zebra, "--out", str(out), "--epochs", "1", *TINY]
    assert cyclegan.main(argv) == 0
    with pytest.raises(ConfigError, match="--cycle-weight"):
        cyclegan.main(argv + ["--cycle-weight", "3"])


def test_defaults_are_the_papers():
    options = cyclegan.parse_args([])
    assert (options.image_size, options.batch_size, options.epochs, options.decay_epochs) == (256, 1, 200, 100)
    assert (options.gan_loss, options.cycle_loss, options.cycle_weight, options.identity_weight) == ("lsgan", "l1", 10.0, 0.5)
    assert (options.generator, options.patch, options.pool_size, options.lr, options.beta1) == ("resnet9", 70, 50, 2e-4, 0.5)
    assert options.out.endswith("cyclegan_bluemarble")


def test_learning_rate_is_constant_then_decays_to_zero():
    options = cyclegan.parse_args(["--epochs", "4", "--image-size", "32", "--base-filters", "4",
                                   "--generator", "resnet6", "--pool-size", "0"])
    model = cyclegan.build_model(options, steps_per_epoch=10)
    for optimizer in (model.g_optimizer, model.d_optimizer):
        schedule = optimizer._learning_rate
        assert isinstance(schedule, ConstantThenLinearDecay)
        rates = [float(schedule(step)) for step in (0, 19, 20, 30, 39, 40)]
        assert rates[:2] == pytest.approx([2e-4, 2e-4])
        assert rates[1] > rates[2] > rates[3] > rates[4] > 0.0 == rates[5]
        assert rates[3] == pytest.approx(2e-4 * (1 - 11 / 21))


@pytest.mark.parametrize("argv, message", [
    (["--decay-epochs", "300"], "--decay-epochs"),
    (["--pool-size", "-1"], "--pool-size"),
])
def test_bad_options_are_config_errors(argv, message):
    with pytest.raises(ConfigError, match=message):
        cyclegan.parse_args(argv)


def test_cli_prints_missing_folder_on_one_line(tmp_path, capsys):
    from kgan.recipes import common

    status = common.run_cli(cyclegan.main, ["--data-dir", str(tmp_path / "none"), "--out", str(tmp_path / "o")])
    assert status == 1
    assert capsys.readouterr().err.count("\n") == 1
