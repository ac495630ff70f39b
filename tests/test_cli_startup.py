"""Ctrl-C while a kgan command starts (TensorFlow takes seconds to import) ends with one line."""

import random
import signal
import subprocess
import sys
import time

import pytest

from helpers import default_sigint, wait_until_caught


def test_ctrl_c_during_start_up_is_one_line_and_exit_130(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "kgan.recipes.pix2pix", "--out", str(tmp_path / "run")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint)
    wait_until_caught(process, signal.SIGINT)  # kgan's handler is in, before TensorFlow loads
    time.sleep(0.5)  # inside `import kgan`: TensorFlow alone takes seconds to import
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr[-2000:]
    assert "Traceback" not in stderr
    assert "interrupted while starting" in stderr.strip().splitlines()[-1]
    assert not (tmp_path / "run").exists()


def test_importing_kgan_from_a_script_leaves_ctrl_c_alone():
    code = "import signal, kgan; assert signal.getsignal(signal.SIGINT) is signal.default_int_handler"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120,
                   preexec_fn=default_sigint)


# A kgan command's start-up, then a Ctrl-C whose handler runs inside a weakref callback (as
# importlib's module-lock callbacks are): Python ignores an exception raised there.
SIGNAL_IN_A_WEAKREF_CALLBACK = """
import os, signal, sys, weakref
sys.orig_argv = [sys.executable, "-m", "kgan.recipes.pix2pix"]
import kgan
class Lock: pass
def callback(ref):
    os.kill(os.getpid(), signal.SIGINT)
    for _ in range(10**6): pass  # the handler runs here, between two bytecodes
lock = Lock()
ref = weakref.ref(lock, callback)
del lock
print("went on after the interrupt")
"""


def test_ctrl_c_at_start_up_inside_a_weakref_callback_still_ends_the_command():
    done = subprocess.run([sys.executable, "-c", SIGNAL_IN_A_WEAKREF_CALLBACK],
                          capture_output=True, text=True, timeout=120, preexec_fn=default_sigint)
    assert "went on" not in done.stdout, done.stderr[-2000:]
    assert done.returncode == 130
    assert done.stderr.strip().splitlines()[-1] == "interrupted while starting: nothing was written"


def test_sigterm_during_start_up_is_one_line_and_exit_143(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "kgan.recipes.pix2pix", "--out", str(tmp_path / "run")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_until_caught(process, signal.SIGTERM)
    time.sleep(0.5)
    process.terminate()
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 143, stderr[-2000:]
    assert stderr.strip().splitlines()[-1] == "terminated while starting: nothing was written"
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_ctrl_c_or_sigterm_at_random_start_up_moments_always_ends_the_command(tmp_path):
    """Issue 18: 1 of 28 Ctrl-Cs was swallowed. 30 tries, spread over start-up and the
    first seconds of the command's work; every one ends with one line, 130 or 143."""
    rng = random.Random(18)
    for attempt in range(30):
        out = tmp_path / f"run{attempt}"
        stop = rng.choice([signal.SIGINT, signal.SIGTERM])
        process = subprocess.Popen(
            [sys.executable, "-m", "kgan.recipes.pix2pix", "--image-size", "32",
             "--base-filters", "8", "--steps-per-epoch", "2", "--epochs", "1", "--out", str(out)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            preexec_fn=default_sigint)
        wait_until_caught(process, stop)  # before that, the signal is Python's, not kgan's
        time.sleep(rng.uniform(0.0, 6.0))
        process.send_signal(stop)
        _, stderr = process.communicate(timeout=300)
        if process.returncode == 0:
            continue  # finished before the signal came: nothing to check
        word = "interrupted" if stop == signal.SIGINT else "terminated"
        assert process.returncode == 128 + stop, (attempt, stderr[-2000:])
        assert "Exception ignored" not in stderr and "Traceback" not in stderr, stderr[-2000:]
        assert stderr.strip().splitlines()[-1].startswith(word), (attempt, stderr[-2000:])
        assert not out.exists(), attempt
