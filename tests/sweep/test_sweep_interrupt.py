"""Ctrl-C on `python -m kgan.sweep` (issue 18): one line, exit 130, and the training child is
stopped through its own clean-up, not left running or killed half-way."""

import os
import signal
import subprocess
import sys
import time

from helpers import default_sigint

GRID = """
recipe = "pix2pix"
[base]
image-size = 32
base-filters = 8
batch-size = 2
epochs = 1
steps-per-epoch = 100000
[variants.long]
"""


def processes_mentioning(text):
    """Pids of live processes whose command line contains `text`."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if text.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


def test_ctrl_c_on_a_sweep_stops_its_child_and_is_one_line(tmp_path):
    grid, out = tmp_path / "grid.toml", tmp_path / "sweep"
    grid.write_text(GRID)
    log = out / "logs" / "long.log"
    # Without CI in its environment the child shows Keras' per-step progress bar (under CI it
    # prints one line per epoch), which tells this test that training has started.
    env = {name: value for name, value in os.environ.items() if name != "CI"}
    sweep = subprocess.Popen([sys.executable, "-m", "kgan.sweep", str(grid), "--out", str(out)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                             start_new_session=True, preexec_fn=default_sigint)
    try:
        deadline = time.monotonic() + 300
        while not (log.exists() and "/100000" in log.read_text()):  # the child trains
            if sweep.poll() is not None or time.monotonic() > deadline:  # `finally` kills it
                raise AssertionError(f"the child never trained; its log:\n{log.read_text()}"
                                     if log.exists() else "the sweep wrote no log")
            time.sleep(0.2)
        sweep.send_signal(signal.SIGINT)  # the sweep alone, as `kill -INT` does
        _, stderr = sweep.communicate(timeout=300)
    finally:
        os.killpg(sweep.pid, signal.SIGKILL) if sweep.poll() is None else None
    assert sweep.returncode == 130, stderr[-3000:]
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1] == (
        "interrupted: rerun the same command to go on (finished variants are kept, the "
        "interrupted one resumes from its last checkpoint)")
    # The child got the Ctrl-C too and ended through its own handler.
    assert log.read_text().strip().endswith(
        "interrupted: rerun the same command to resume from the last checkpoint")
    assert processes_mentioning(str(out / "runs" / "long")) == []
    assert not (out / "runs" / "long").exists()  # no checkpoint yet: nothing left behind
