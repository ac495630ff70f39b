"""One line instead of a stack trace (issue 18): option ranges, TF_CONFIG, a dangling --out,
SIGTERM, bad FID weights under --eval-every, and a console without TensorFlow's C++ log."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kgan.recipes import pix2pix

from test_recipe_reliability import one_line, run

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("seed", ["-1", "4294967296"])
def test_a_seed_keras_cannot_take_is_an_argparse_error(seed, tiny_args, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        pix2pix.parse_args(tiny_args("pix2pix", out=tmp_path / "run", seed=seed))
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1].endswith(
        f"argument --seed: expected a number in [0, 4294967295], got {seed}")


@pytest.mark.parametrize("tf_config, message", [
    ("garbage", "error: TF_CONFIG is not valid JSON (Expecting value"),
    ("[1,2]", "error: TF_CONFIG '[1,2]' is not of the form {\"cluster\""),
    ('{"cluster": {"worker": "host:1"}}', "is not of the form"),
])
def test_a_bad_tf_config_is_one_line(tf_config, message, tiny_args, tmp_path, capsys,
                                     monkeypatch):
    monkeypatch.setenv("TF_CONFIG", tf_config)
    status, err = run(pix2pix, tiny_args("pix2pix", out=tmp_path / "run"), capsys)
    assert status == 2
    assert message in one_line(err)
    assert not (tmp_path / "run").exists()


def test_a_dangling_symlink_out_is_one_line(tiny_args, tmp_path, capsys):
    out = tmp_path / "run"
    out.symlink_to(tmp_path / "gone")
    status, err = run(pix2pix, tiny_args("pix2pix", out=out), capsys)
    assert status == 2
    assert one_line(err) == (f"error: --out {out} is a symbolic link to {tmp_path / 'gone'}, "
                               "which does not exist: create that folder, or pass another --out")
    assert out.is_symlink() and not (tmp_path / "gone").exists()


def test_eval_every_with_unreadable_fid_weights_warns_and_trains_on(tiny_args, tmp_path, capsys,
                                                                    monkeypatch):
    weights = tmp_path / "fid.weights.h5"
    weights.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(1000))  # an HDF5 file cut short
    monkeypatch.setenv("KGAN_FID_WEIGHTS", str(weights))
    out = tmp_path / "run"
    status, err = run(pix2pix, tiny_args("pix2pix", out=out, eval_every=1, eval_images=4), capsys)
    assert status == 0, err
    assert f"warning: training without --eval-every: cannot read the FID weights file {weights}" \
        in err
    assert (out / "generator.keras").is_file()


def quiet_env():
    """The environment of a user who set none of TensorFlow's logging variables."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("TF_CPP_MIN_LOG_LEVEL", "KGAN_VERBOSE", "CI")}
    return {**env, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(REPO)}


def test_sigterm_during_training_is_one_line_exit_143_and_leaves_no_lone_config(tmp_path,
                                                                                tiny_args):
    out, log = tmp_path / "run", tmp_path / "stdout.txt"
    with open(log, "w") as stdout:
        process = subprocess.Popen(
            [sys.executable, "-m", "kgan.recipes.pix2pix",
             *tiny_args("pix2pix", out=out, steps_per_epoch=100000)],
            stdout=stdout, stderr=subprocess.PIPE, text=True, env=quiet_env(), cwd=REPO)
        try:
            deadline = time.monotonic() + 300
            while "/100000" not in log.read_text():  # training (the progress bar), no checkpoint
                assert process.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
            time.sleep(1)
            process.send_signal(signal.SIGTERM)
            _, stderr = process.communicate(timeout=300)
        finally:
            process.kill()
    assert process.returncode == 143, stderr[-3000:]
    # The whole of stderr: no trace, and none of TensorFlow's C++ log or Keras' warnings.
    assert stderr.splitlines() == [
        "terminated: rerun the same command to resume from the last checkpoint"], stderr[-3000:]
    assert not out.exists()


def test_kgan_verbose_shows_tensorflows_log():
    from kgan.startup import TENSORFLOW_LOG_LINE

    command = [sys.executable, "-m", "kgan.recipes.pix2pix", "--help"]
    quiet = subprocess.run(command, capture_output=True, text=True, env=quiet_env(), timeout=300)
    verbose = subprocess.run(command, capture_output=True, text=True, timeout=300,
                             env={**quiet_env(), "KGAN_VERBOSE": "1"})
    assert quiet.returncode == verbose.returncode == 0
    assert quiet.stderr == "", quiet.stderr
    assert any(TENSORFLOW_LOG_LINE.match(line) for line in verbose.stderr.splitlines()), \
        verbose.stderr
    assert re.search(r"usage: python -m kgan.recipes.pix2pix", quiet.stdout)
