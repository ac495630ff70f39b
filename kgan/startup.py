"""What a `python -m kgan....` command sets up before TensorFlow is imported.

Importing `kgan` runs `prepare_command()` first, so this happens before TensorFlow loads:

- A quiet console: TensorFlow's C++ log (absl's "All log messages before
  absl::InitializeLog()", oneDNN, CUDA probing, grappler, tf.data warnings) is hidden by
  `TF_CPP_MIN_LOG_LEVEL=3`, so that a command shows kgan's own lines and Keras' progress bar.
  `KGAN_VERBOSE=1` shows them; a `TF_CPP_MIN_LOG_LEVEL` the user set is kept.
- Ctrl-C (SIGINT) or SIGTERM while the command is still importing (seconds) ends it with
  one line and exit 130 or 143. `kgan.cli.run_reporting_errors` gives the signals their
  working handlers (`working_signal_handlers`) before the command's work starts.

Importing kgan from a script or a notebook changes none of this.
"""

import contextlib
import os
import re
import signal
import sys
import tempfile

VERBOSE_ENV = "KGAN_VERBOSE"
# Lines of TensorFlow's C++ log (absl's format "I0000 00:00:1796.3 123 file.cc:31] ...",
# its preamble, and the continuation of the CPU-instructions line).
TENSORFLOW_LOG_LINE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\)|[IWEF]\d{4} \d\d:\d\d:\d+"
    r"\.\d+ +\d+ [\w.]+:\d+\]|To enable the following instructions:)")
# Where the start-up line goes while stderr is redirected (`quiet_imports`).
_console = {"fd": 2}
# Signal -> (what the line calls it, the exit status: 128 + the signal's number, as a
# shell reports a process the signal ended).
STOPPING_SIGNALS = {signal.SIGINT: ("interrupted", 130), signal.SIGTERM: ("terminated", 143)}


def is_kgan_command():
    """Whether this process is `python -m kgan.<something>`."""
    argv = getattr(sys, "orig_argv", [])
    return "-m" in argv[:-1] and argv[argv.index("-m") + 1].startswith("kgan.")


def verbose():
    """Whether `KGAN_VERBOSE` asks for TensorFlow's own log lines (1, true, yes)."""
    return os.environ.get(VERBOSE_ENV, "").strip().lower() in ("1", "true", "yes")


def stopped_while_starting(signum, frame):
    """The SIGINT/SIGTERM handler while a kgan command imports: one line, then exit.

    It ends the process with `os._exit`, not by raising: a signal handler runs between any
    two bytecodes, inside an importlib weakref callback too, where Python prints a raised
    SystemExit as "Exception ignored" and goes on (the command then trained on). Nothing
    has been written yet, so there is nothing to clean up.
    """
    word, status = STOPPING_SIGNALS[signum]
    try:
        os.write(_console["fd"], f"{word} while starting: nothing was written\n".encode())
    finally:
        os._exit(status)


class Terminated(KeyboardInterrupt):
    """SIGTERM during a command's work: raised like Ctrl-C's KeyboardInterrupt, so that the
    same clean-up runs (a new run folder without a checkpoint is removed, ...); the command
    then exits 143 instead of 130."""

    exit_status = 143


def _raise_terminated(signum, frame):
    raise Terminated()


def exit_status(interrupt):
    """The exit status of a command stopped by `interrupt` (a KeyboardInterrupt): 130 for
    Ctrl-C, 143 for SIGTERM."""
    return getattr(interrupt, "exit_status", 130)


def working_signal_handlers():
    """In a kgan command, once its imports are done: Ctrl-C raises KeyboardInterrupt (Python's
    handler) and SIGTERM raises `Terminated`. Elsewhere (a script, a notebook) nothing
    changes."""
    if signal.getsignal(signal.SIGINT) is stopped_while_starting:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if signal.getsignal(signal.SIGTERM) is stopped_while_starting:
        signal.signal(signal.SIGTERM, _raise_terminated)


@contextlib.contextmanager
def quiet_imports():
    """In a kgan command (unless `KGAN_VERBOSE`): the block's writes to stderr are held back,
    and only those that are not TensorFlow's log lines are written afterwards.

    Some of TensorFlow's libraries log through their own copy of absl while they load,
    before `TF_CPP_MIN_LOG_LEVEL` is read ("Could not find cuda drivers", absl's preamble),
    so they are filtered here instead. Python's warnings and an import error's traceback
    still show.
    """
    if not is_kgan_command() or verbose():
        yield
        return
    sys.stderr.flush()
    held = tempfile.TemporaryFile()
    _console["fd"] = os.dup(2)
    os.dup2(held.fileno(), 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(_console["fd"], 2)
        os.close(_console["fd"])
        _console["fd"] = 2
        held.seek(0)
        lines = held.read().decode(errors="replace").splitlines(keepends=True)
        held.close()
        sys.stderr.write("".join(line for line in lines if not TENSORFLOW_LOG_LINE.match(line)))
        sys.stderr.flush()


def prepare_command():
    """Quiet TensorFlow's log and catch start-up signals, in a kgan command only."""
    if not is_kgan_command():
        return
    if not verbose():
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # Only where the default action is in place: a signal the caller ignores (nohup, a
    # background job) stays ignored.
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, stopped_while_starting)
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, stopped_while_starting)
