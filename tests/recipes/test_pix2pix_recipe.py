"""`python -m kgan.recipes.pix2pix` end to end: run folder, resume, config files, errors."""

import subprocess
import sys
import tomllib

import keras
import numpy as np
import pytest
from PIL import Image

from kgan.errors import ConfigError
from kgan.recipes import pix2pix

from helpers import read_history


def test_bluemarble_run_writes_the_run_folder_and_resumes(tmp_path, tiny_args):
    out = tmp_path / "run"
    assert pix2pix.main(tiny_args("pix2pix", out=out)) == 0

    rows = read_history(out)
    assert [row["epoch"] for row in rows] == ["0"]
    for key in ("d_loss", "g_loss", "g_adv", "g_recon", "val_l1"):
        assert np.isfinite(float(rows[0][key]))
    grid = Image.open(out / "samples" / "epoch_001.png")
    assert grid.size == (3 * 32, 2 * 32)  # rows of input | output | target
    assert (out / "checkpoints" / "step_000000002" / "model.weights.h5").is_file()
    config = tomllib.loads((out / "config.toml").read_text())
    assert config["image-size"] == 32 and config["dataset"] == "bluemarble"
    generator = keras.models.load_model(out / "generator.keras")
    assert generator(np.zeros((1, 32, 32, 3), "float32")).shape == (1, 32, 32, 3)

    # The same command with more epochs continues after epoch 1.
    assert pix2pix.main(tiny_args("pix2pix", epochs=2, out=out)) == 0
    assert [row["epoch"] for row in read_history(out)] == ["0", "1"]
    assert (out / "samples" / "epoch_002.png").is_file()
    assert sorted(p.name for p in (out / "checkpoints").glob("step_*")) == [
        "step_000000002", "step_000000004"]

    # A finished run rerun as is trains nothing more and keeps its history.
    assert pix2pix.main(tiny_args("pix2pix", epochs=2, out=out)) == 0
    assert len(read_history(out)) == 2


def test_changing_an_option_of_an_existing_run_is_refused(tmp_path, tiny_args):
    out = tmp_path / "run"
    assert pix2pix.main(tiny_args("pix2pix", out=out)) == 0
    before = (out / "history.csv").read_bytes()
    with pytest.raises(ConfigError, match="--lr 0.0002, not 0.1"):
        pix2pix.main(tiny_args("pix2pix", lr=0.1, out=out))
    # Leaving out an option the run was given is a change too (steps per epoch: 2 -> all).
    with pytest.raises(ConfigError, match="--steps-per-epoch 2, not unset"):
        pix2pix.main(tiny_args("pix2pix", steps_per_epoch=None, out=out))
    assert (out / "history.csv").read_bytes() == before


def test_config_file_sets_options_and_flags_win(tmp_path):
    config = tmp_path / "small.toml"
    config.write_text('image-size = 32\nbase-filters = 8\npatch = 1\nrecon-loss = "l1+l2"\n'
                      'gan-loss = "lsgan"\nno-skip = true\nepochs = 1\nbatch-size = 2\n')
    options = pix2pix.parse_args(["--config", str(config), "--batch-size", "3"])
    assert (options.image_size, options.patch, options.recon_loss, options.gan_loss) == (
        32, 1, "l1+l2", "lsgan")
    assert options.no_skip and options.batch_size == 3

    out = tmp_path / "run"
    assert pix2pix.main(["--config", str(config), "--steps-per-epoch", "2", "--samples", "2",
                         "--out", str(out)]) == 0
    written = tomllib.loads((out / "config.toml").read_text())
    assert written["patch"] == 1 and written["no-skip"] is True
    # The written config reproduces the run's options.
    rerun = vars(pix2pix.parse_args(["--config", str(out / "config.toml")]))
    first = vars(pix2pix.parse_args(["--config", str(config), "--steps-per-epoch", "2",
                                     "--samples", "2", "--out", str(out)]))
    assert {k: v for k, v in rerun.items() if k != "config"} == {
        k: v for k, v in first.items() if k != "config"}


@pytest.mark.parametrize("argv, message", [
    (["--image-size", "48"], "power of two"),
    (["--patch", "50"], "--patch"),
    (["--batch-size", "0"], "--batch-size"),
    (["--recon-mix", "1.5"], "--recon-mix: expected a number in [0, 1], got 1.5"),
    (["--decay-epochs", "-1"], "--decay-epochs"),
    (["--config", "no_such_file.toml"], "no_such_file.toml"),
])
def test_bad_options_give_one_line_and_exit_2(argv, message, tmp_path):
    result = subprocess.run([sys.executable, "-m", "kgan.recipes.pix2pix", *argv,
                             "--out", str(tmp_path / "run")],
                            capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert message in result.stderr.strip().splitlines()[-1]
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_trains_on_real_facades_labels_to_photo(facades_dir, tmp_path, tiny_args):
    out = tmp_path / "facades"
    assert pix2pix.main(tiny_args("pix2pix", data_dir=facades_dir, direction="BtoA", out=out)) == 0
    rows = read_history(out)
    assert len(rows) == 1 and np.isfinite(float(rows[0]["val_l1"]))
    grid = np.asarray(Image.open(out / "samples" / "epoch_001.png"))
    # BtoA: the input column holds the label maps (B, the right half of each facades file),
    # flat colour regions, so far fewer distinct colours than the photos in the target column.
    inputs, targets = grid[:, :32], grid[:, 64:]
    assert len(np.unique(inputs.reshape(-1, 3), axis=0)) < len(np.unique(targets.reshape(-1, 3), axis=0))
