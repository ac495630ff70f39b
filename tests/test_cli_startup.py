"""Ctrl-C while a kgan command starts (TensorFlow takes seconds to import) ends with one line."""

import signal
import subprocess
import sys
import time


def default_sigint():
    """In the child before exec: Ctrl-C's default action. A shell without job control starts
    background commands (`cmd &`, as some CI runners do) with SIGINT ignored, and an ignored
    signal stays ignored across exec."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_during_start_up_is_one_line_and_exit_130(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "kgan.recipes.pix2pix", "--out", str(tmp_path / "run")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint)
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
