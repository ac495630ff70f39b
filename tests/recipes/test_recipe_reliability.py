"""Reliability of the recipes' run folders (docs/reliability.md): refused reruns leave the
folder as it was, non-finite losses stop the run, history rows are never duplicated."""

import os
import re

import pytest

import kgan.run_folder.config
import kgan.run_folder.folder
from kgan.errors import ConfigError
from kgan.recipes import cyclegan, pix2pix

from helpers import one_line, read_history
from helpers import run_recipe as run

RECIPES = {"pix2pix": pix2pix, "cyclegan": cyclegan}


def test_a_rerun_without_data_dir_or_steps_is_refused_and_config_kept(unpaired_dir, tmp_path,
                                                                        tiny_args):
    out = tmp_path / "run"
    assert cyclegan.main(tiny_args("cyclegan", data_dir=unpaired_dir, out=out)) == 0
    config = (out / "config.toml").read_bytes()
    with pytest.raises(ConfigError, match="--data-dir .*, not unset"):
        cyclegan.main(tiny_args("cyclegan", out=out))
    with pytest.raises(ConfigError, match="--steps-per-epoch 2, not unset"):
        cyclegan.main(tiny_args("cyclegan", data_dir=unpaired_dir, steps_per_epoch=None, out=out))
    assert (out / "config.toml").read_bytes() == config


def test_data_that_changed_under_a_run_is_refused(unpaired_dir, tmp_path, tiny_args):
    out = tmp_path / "run"
    argv = tiny_args("cyclegan", data_dir=unpaired_dir, steps_per_epoch=None, batch_size=4,
                     out=out)
    assert cyclegan.main(argv) == 0
    # Twice the images: the default steps per epoch (one pass) is no longer the run's.
    for name in os.listdir(os.path.join(unpaired_dir, "trainA")):
        os.link(os.path.join(unpaired_dir, "trainA", name),
                os.path.join(unpaired_dir, "trainA", "copy_" + name))
    with pytest.raises(ConfigError, match="steps per epoch"):
        cyclegan.main(argv[:-2] + ["--epochs", "2", "--out", str(out)])


@pytest.mark.parametrize("flag", ["--recon-weight", "--lr"])
@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_non_finite_option_values_are_refused_at_parse_time(flag, value, capsys):
    with pytest.raises(SystemExit) as raised:
        pix2pix.parse_args([f"{flag}={value}"])
    assert raised.value.code == 2
    assert "finite" in capsys.readouterr().err


def test_a_diverging_run_stops_with_one_line_and_writes_no_generator(tmp_path, tiny_args, capsys):
    out, base = tmp_path / "run", tmp_path / "savedmodels"
    status, err = run(pix2pix, tiny_args("pix2pix", recon_weight=1e40, out=out, export="m",
                                         export_base=base), capsys)
    assert status == 1
    assert "non-finite loss at step 1" in one_line(err)
    assert not base.exists()
    # Nothing was trained: the new run folder is not left behind with only config.toml.
    assert not out.exists()


def test_a_loss_exploding_without_overflowing_stops_the_run_unless_turned_off(tmp_path, tiny_args,
                                                                              capsys):
    out, base = tmp_path / "run", tmp_path / "savedmodels"
    argv = tiny_args("pix2pix", lr=1e6, epochs=2, out=out, export="m", export_base=base)
    status, err = run(pix2pix, argv, capsys)
    assert status == 1
    line = one_line(err)
    assert re.search(r"loss exploded at step \d+ \(.* over --max-loss 1e\+06\)", line), line
    assert not base.exists() and not (out / "generator.keras").exists()
    # Turned off, the same run trains on until its weights overflow, where the NaN/Inf guard
    # stops it: no generator with an infinite batch-norm variance is saved.
    status, err = run(pix2pix, argv + ["--max-loss", "0"], capsys)
    assert status == 1
    line = one_line(err)
    assert "non-finite" in line and "loss exploded" not in line
    assert not base.exists() and not (out / "generator.keras").exists()


def test_a_precision_change_that_would_drop_the_optimizer_state_is_refused(tmp_path, tiny_args,
                                                                           capsys):
    out = tmp_path / "run"
    assert pix2pix.main(tiny_args("pix2pix", out=out)) == 0
    config = (out / "config.toml").read_bytes()
    flags = {action.dest for action in pix2pix.RECIPE.build_parser()._actions}
    change = {"precision": "mixed_float16"} if "precision" in flags else {"mixed_precision": True}
    status, err = run(pix2pix, tiny_args("pix2pix", epochs=2, out=out, **change), capsys)
    assert status == 2
    assert "optimizer state" in one_line(err)
    assert (out / "config.toml").read_bytes() == config
    assert len(read_history(out)) == 1


@pytest.mark.parametrize("recipe", ["pix2pix", "cyclegan"])
def test_an_interrupt_while_the_first_checkpoint_is_written_leaves_no_duplicate_row(
        recipe, tmp_path, tiny_args, monkeypatch, unpaired_dir):
    module, out = RECIPES[recipe], tmp_path / "run"
    data = {"data_dir": unpaired_dir} if recipe == "cyclegan" else {}
    import kgan.callbacks.checkpoint as checkpoint

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(checkpoint, "save_checkpoint", interrupted)
        with pytest.raises(KeyboardInterrupt):
            module.main(tiny_args(recipe, out=out, **data))
    assert module.main(tiny_args(recipe, out=out, **data)) == 0
    assert [row["epoch"] for row in read_history(out)] == ["0"]


@pytest.mark.parametrize("setup, message, status", [
    ("out-is-a-file", "is a file", 2),
    ("config-is-a-folder", "is a folder", 2),
    ("config-is-binary", "not valid TOML", 2),
    ("image-size-1024", "--image-size", 2),
    ("disk-full", "No space left on device", 1),
])
def test_user_errors_are_one_line(setup, message, status, tmp_path, tiny_args, capsys,
                                  monkeypatch):
    out = tmp_path / "run"
    argv = tiny_args("pix2pix", out=out)
    if setup == "out-is-a-file":
        out.write_text("a file")
    elif setup == "config-is-a-folder":
        argv += ["--config", str(tmp_path)]
    elif setup == "config-is-binary":
        (tmp_path / "c.toml").write_bytes(bytes(range(256)))
        argv += ["--config", str(tmp_path / "c.toml")]
    elif setup == "image-size-1024":
        argv += ["--image-size", "1024"]
    elif setup == "disk-full":
        import errno

        import kgan.atomic

        def full(path, data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)

        monkeypatch.setattr(kgan.atomic, "write_bytes", full)
        for module in (kgan.run_folder.config, kgan.run_folder.folder):
            monkeypatch.setattr(module, "write_text", lambda path, text: full(path, text))
    result, err = run(pix2pix, argv, capsys)
    assert result == status
    assert message in one_line(err)


def test_a_finished_run_rerun_with_export_exports_once(tmp_path, tiny_args, capsys):
    out, base = tmp_path / "run", tmp_path / "savedmodels"
    argv = tiny_args("pix2pix", out=out, export="m", export_base=base)
    assert pix2pix.main(argv) == 0
    assert pix2pix.main(argv) == 0
    assert sorted(os.listdir(base / "m")) == ["1"]
    assert "already exported" in capsys.readouterr().out
