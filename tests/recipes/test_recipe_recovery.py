"""Reliability of run folders across interruptions (docs/reliability.md, step 12): an epoch's
row and samples survive a kill at its end, unreadable checkpoints never restart a run over its
progress, a folder is locked while it trains, and a folder without config.toml is checked."""

import fcntl
import json
import os
import signal
import subprocess
import sys

import pytest

from kgan.callbacks import HistoryCSV, SampleGrid
from kgan.recipes import pix2pix
from kgan.recipes.options import RESUMABLE_CHANGES

from helpers import one_line as error_line
from helpers import read_history, run_recipe


def run(argv, capsys):
    """`python -m kgan.recipes.pix2pix` in-process: (exit status, stderr)."""
    return run_recipe(pix2pix, argv, capsys)


def snapshot(folder):
    """{relative path: bytes} of every file below `folder`."""
    return {os.path.relpath(os.path.join(root, name), folder):
            open(os.path.join(root, name), "rb").read()
            for root, _, names in os.walk(folder) for name in names}


@pytest.mark.parametrize("killed_in", [HistoryCSV, SampleGrid])
def test_a_kill_at_an_epochs_end_after_a_step_checkpoint_keeps_its_row_and_samples(
        killed_in, tmp_path, tiny_args, monkeypatch):
    # --checkpoint-steps 2 with 2 steps per epoch: a step checkpoint falls on each epoch's
    # last batch, before validation, the history row and the sample grid.
    out = tmp_path / "run"
    argv = tiny_args("pix2pix", epochs=2, checkpoint_steps=2, out=out)

    def killed(self, epoch, logs=None):
        raise KeyboardInterrupt  # the process dies here, as under SIGKILL or SIGTERM

    with monkeypatch.context() as patch:
        patch.setattr(killed_in, "on_epoch_end", killed)
        with pytest.raises(KeyboardInterrupt):
            pix2pix.main(argv)
    assert pix2pix.main(argv) == 0
    assert [row["epoch"] for row in read_history(out)] == ["0", "1"]
    assert sorted(os.listdir(out / "samples")) == ["epoch_001.png", "epoch_002.png"]


def test_unreadable_checkpoints_are_moved_aside_and_never_restart_the_run_unasked(
        tmp_path, tiny_args, capsys):
    out = tmp_path / "run"
    argv = tiny_args("pix2pix", epochs=2, checkpoint_steps=1, out=out)
    assert pix2pix.main(argv) == 0
    broken = sorted(name for name in os.listdir(out / "checkpoints") if name.startswith("step_"))
    for name in broken:
        with open(out / "checkpoints" / name / "model.weights.h5", "r+b") as f:
            f.truncate(1000)
    history = (out / "history.csv").read_bytes()

    status, err = run(argv, capsys)
    assert status == 2
    line = error_line(err)
    assert "no readable checkpoint" in line and "--restart" in line
    assert (out / "history.csv").read_bytes() == history
    moved = sorted(os.listdir(out / "checkpoints"))
    assert moved == sorted(["state.json"] + [f"broken_{name}" for name in broken])
    status, err = run(argv, capsys)  # asked again: still refused, nothing more moved
    assert status == 2 and sorted(os.listdir(out / "checkpoints")) == moved

    assert pix2pix.main(argv + ["--restart"]) == 0
    names = sorted(os.listdir(out / "checkpoints"))
    # The new checkpoints are kept (the rotation does not count the broken ones), the broken
    # ones too.
    assert names == sorted(moved + ["step_000000002", "step_000000003", "step_000000004"])
    assert [row["epoch"] for row in read_history(out)] == ["0", "1"]
    assert "restart" not in (out / "config.toml").read_text()


LOCK_HOLDER = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
fcntl.flock(fd, fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(600)
"""


def test_a_folder_is_locked_while_it_trains_and_a_kill_releases_the_lock(
        tmp_path, tiny_args, capsys, monkeypatch):
    out = tmp_path / "run"
    argv = tiny_args("pix2pix", out=out)
    seen = []

    def locked_while_writing(self, epoch, logs=None):
        fd = os.open(out, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            seen.append("free")
        except BlockingIOError:
            seen.append("locked")
        finally:
            os.close(fd)
        original(self, epoch, logs)

    original = HistoryCSV.on_epoch_end
    with monkeypatch.context() as patch:
        patch.setattr(HistoryCSV, "on_epoch_end", locked_while_writing)
        assert pix2pix.main(argv) == 0
    assert seen == ["locked"]

    # Another process (a second training command) holds the folder: refused, nothing changes.
    holder = subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, str(out)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "locked\n"
        before = snapshot(out)
        status, err = run(tiny_args("pix2pix", epochs=2, out=out), capsys)
        assert status == 1
        assert "is in use: another process is training in it" in error_line(err)
        assert snapshot(out) == before
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    # The kernel released the killed holder's lock: the run resumes.
    assert pix2pix.main(tiny_args("pix2pix", epochs=2, out=out)) == 0
    assert [row["epoch"] for row in read_history(out)] == ["0", "1"]


def test_a_folder_without_config_toml_is_compared_with_its_checkpoints_options(
        tmp_path, tiny_args, capsys):
    out = tmp_path / "run"
    assert pix2pix.main(tiny_args("pix2pix", out=out)) == 0
    config = (out / "config.toml").read_text()
    (out / "config.toml").unlink()
    for change, message in [({"lr": 0.01}, "--lr 0.0002, not 0.01"),
                            ({"base_filters": 16}, "--base-filters 8, not 16")]:
        status, err = run(tiny_args("pix2pix", epochs=2, out=out, **change), capsys)
        assert status == 2
        assert message in error_line(err)
        assert not (out / "config.toml").exists()
    # The same options resume, and config.toml is written again.
    assert pix2pix.main(tiny_args("pix2pix", epochs=2, out=out)) == 0
    rewritten = (out / "config.toml").read_text().splitlines()
    assert "epochs = 2" in rewritten
    assert [line for line in rewritten if "epochs" not in line] == [
        line for line in config.splitlines() if "epochs" not in line]

    # Checkpoints that do not record their options (an older kgan): refused, clearly.
    (out / "config.toml").unlink()
    for name in os.listdir(out / "checkpoints"):
        state = out / "checkpoints" / name / "state.json"
        if state.exists():
            state.write_text(json.dumps({k: v for k, v in json.loads(state.read_text()).items()
                                         if k != "options"}))
    status, err = run(tiny_args("pix2pix", epochs=3, out=out), capsys)
    assert status == 2
    assert error_line(err).startswith("error: config.toml missing: ")


def test_the_resumable_options_are_options_of_every_recipe():
    from kgan.recipes import cut, cyclegan

    for module in (pix2pix, cyclegan, cut):
        options = {action.dest for action in module.RECIPE.build_parser()._actions}
        assert set(RESUMABLE_CHANGES) <= options, module.RECIPE.name
