"""The CUT recipe end to end on the real horse2zebra images (FastCUT, resume, export), and
its modes' defaults."""

import csv

import keras
import numpy as np
import pytest
from PIL import Image

from kgan.errors import ConfigError
from kgan.networks import NCE_LAYERS
from kgan.recipes import cut


def history_rows(out):
    with open(out / "history.csv", newline="") as f:
        return list(csv.DictReader(f))


def check_fastcut_run(out, exports):
    """What a one-epoch FastCUT run at 32 px with 2 samples and `--export zebra` wrote."""
    rows = history_rows(out)
    assert [row["epoch"] for row in rows] == ["0"]
    keys = {"d_loss", "g_loss", "g_adv", "g_nce", "l1", "val_g_nce", "val_l1"}
    assert keys <= set(rows[0]) and "g_nce_identity" not in rows[0]  # FastCUT: no identity
    assert all(np.isfinite(float(rows[0][key])) for key in keys)
    grid = np.asarray(Image.open(out / "samples" / "epoch_001.png"))
    assert grid.shape == (2 * 32, 3 * 32, 3)  # 2 rows of real A | G(A) | real B
    generator = keras.saving.load_model(out / "generator.keras")
    assert generator(np.zeros((1, 32, 32, 3), "float32")).shape == (1, 32, 32, 3)
    assert not (out / "generator_ab.keras").exists()
    config = (out / "config.toml").read_text()
    assert 'mode = "fastcut"' in config and "nce-weight = 10.0" in config
    assert [p.name for p in exports.iterdir()] == ["zebra"]
    assert (exports / "zebra" / "1" / "saved_model.pb").exists()


def test_fastcut_run_folder_export_and_refusal_of_the_other_mode(unpaired_dir, tmp_path, tiny_args):
    out, exports = tmp_path / "run", tmp_path / "savedmodels"
    argv = tiny_args("cut", data_dir=unpaired_dir, out=out, mode="fastcut")
    assert cut.main(argv + ["--export", "zebra", "--export-base", str(exports)]) == 0
    check_fastcut_run(out, exports)
    with pytest.raises(ConfigError, match="--mode fastcut, not cut"):
        cut.main(tiny_args("cut", data_dir=unpaired_dir, out=out, mode="cut", epochs=2))


@pytest.mark.slow
def test_fastcut_trains_on_horse2zebra_and_resumes(horse2zebra_dir, tmp_path, tiny_args):
    out, exports = tmp_path / "run", tmp_path / "savedmodels"
    argv = tiny_args("cut", data_dir=horse2zebra_dir, out=out, mode="fastcut")
    assert cut.main(argv + ["--export", "zebra", "--export-base", str(exports)]) == 0
    check_fastcut_run(out, exports)
    # Rerunning with more epochs resumes after epoch 1 instead of starting over.
    assert cut.main(tiny_args("cut", data_dir=horse2zebra_dir, out=out, mode="fastcut",
                              epochs=2)) == 0
    assert [row["epoch"] for row in history_rows(out)] == ["0", "1"]
    assert (out / "samples" / "epoch_002.png").exists()


def test_defaults_are_the_papers():
    options = cut.parse_args([])
    assert (options.mode, options.image_size, options.batch_size) == ("cut", 256, 1)
    assert (options.epochs, options.decay_epochs, options.nce_weight) == (400, 200, 1.0)
    assert (options.gan_loss, options.lr, options.beta1, options.norm) == ("lsgan", 2e-4, 0.5, "instance")
    assert (options.generator, options.patch) == ("resnet9", 70)
    assert (options.nce_temperature, options.num_patches) == (0.07, 256)
    assert options.nce_layers.split(",") == list(NCE_LAYERS)
    assert options.out.endswith("cut_bluemarble")
    fast = cut.parse_args(["--mode", "fastcut"])
    assert (fast.epochs, fast.decay_epochs, fast.nce_weight) == (200, 50, 10.0)


@pytest.mark.parametrize("argv, expected", [
    (["--mode", "fastcut", "--epochs", "20"], (20, 5, 10.0)),  # FastCUT's quarter decays
    (["--epochs", "10"], (10, 5, 1.0)),
    (["--mode", "fastcut", "--decay-epochs", "7", "--nce-weight", "3"], (200, 7, 3.0)),
])
def test_given_options_win_over_the_modes_defaults(argv, expected):
    options = cut.parse_args(argv)
    assert (options.epochs, options.decay_epochs, options.nce_weight) == expected


def test_config_file_sets_the_mode_and_its_defaults(tmp_path):
    config = tmp_path / "fastcut.toml"
    config.write_text('mode = "fastcut"\nepochs = 8\n')
    options = cut.parse_args(["--config", str(config)])
    assert (options.mode, options.epochs, options.decay_epochs, options.nce_weight) == (
        "fastcut", 8, 2, 10.0)


@pytest.mark.parametrize("mode, identity, weight", [("cut", True, 1.0), ("fastcut", False, 10.0)])
def test_mode_reaches_the_model(tiny_args, mode, identity, weight):
    options = cut.parse_args(tiny_args("cut", mode=mode, num_patches=64, nce_temperature=0.1))
    model = cut.build_model(options, steps_per_epoch=1)
    assert (model.nce_identity, model.nce_weight) == (identity, weight)
    assert (model.num_patches, model.temperature, model.nce_layers) == (64, 0.1, NCE_LAYERS)


@pytest.mark.parametrize("argv, message", [
    (["--nce-temperature", "0"], "--nce-temperature must be > 0, got 0.0"),
    (["--num-patches", "0"], "--num-patches: expected a number >= 1, got 0"),
])
def test_bad_option_values_exit_2_with_a_one_line_message(argv, message, tmp_path, capsys):
    try:  # argparse exits itself; kgan's own checks return the status
        status = cut.RECIPE.run_cli(argv + ["--out", str(tmp_path / "run")])
    except SystemExit as error:
        status = error.code
    assert status == 2
    assert message in capsys.readouterr().err.strip().splitlines()[-1]


def test_an_unknown_nce_layer_is_a_config_error(tiny_args):
    options = cut.parse_args(tiny_args("cut", nce_layers="in_pad,nowhere"))
    with pytest.raises(ConfigError, match="has no layer 'nowhere'"):
        cut.build_model(options, steps_per_epoch=1)
