"""What kgan's command lines share: one-line errors with exit codes, and argparse types."""

import argparse
import math
import os
import re
import sys
import zipfile

import keras
import tensorflow as tf

from kgan import startup
from kgan.errors import ConfigError, KganError


def run_reporting_errors(function, *args, interrupted=None):
    """Call `function(*args)`; print a kgan error as one line on stderr instead of raising.

    Ctrl-C and SIGTERM raise KeyboardInterrupt (`kgan.startup.Terminated` for SIGTERM) inside
    `function`, so its clean-up runs; then one line: "interrupted" or "terminated", and
    `interrupted` (what to do next) after a colon.

    Returns:
        int: `function`'s exit status, 2 for a ConfigError, 1 for another KganError, 130
        after Ctrl-C, 143 after SIGTERM.
    """
    startup.working_signal_handlers()
    try:
        return function(*args)
    except KeyboardInterrupt as interrupt:
        word = "terminated" if isinstance(interrupt, startup.Terminated) else "interrupted"
        print(word + (f": {interrupted}" if interrupted else ""), file=sys.stderr)
        return startup.exit_status(interrupt)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KganError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except tf.errors.ResourceExhaustedError as error:
        print(f"error: {out_of_memory_line(error)}", file=sys.stderr)
        return 1
    except OSError as error:
        # A full disk, a read-only folder, a file where a folder should be: the environment,
        # not a bug, so one line too (the strerror and the file name say what to fix).
        print(f"error: {os_error_line(error)}", file=sys.stderr)
        return 1


def out_of_memory_line(error):
    """One line for TensorFlow's ResourceExhaustedError: what did not fit, and what to do."""
    lines = [line for line in str(error.message).splitlines() if line.strip()] or ["OOM"]
    what = re.sub(r"\{\{.*?\}\}\s*|\s*\[Op:.*$", "", lines[0]).strip()
    return (f"out of memory ({what}): pass a smaller --batch-size or --image-size, or free "
            "the memory other processes hold")


def os_error_line(error):
    """One line for an OSError: "No space left on device: PATH"."""
    reason = error.strerror or str(error) or type(error).__name__
    return f"{reason}: {error.filename}" if error.filename else reason


def _number(text, kind, minimum, maximum=None):
    try:
        value = kind(text)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    if value < minimum or (maximum is not None and value > maximum):
        bound = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
        raise argparse.ArgumentTypeError(f"expected a number {bound}, got {value}")
    return value


def positive_int(text):
    """argparse type: a whole number >= 1."""
    return _number(text, int, 1)


def non_negative_int(text):
    """argparse type: a whole number >= 0."""
    return _number(text, int, 0)


def non_negative_float(text):
    """argparse type: a float >= 0."""
    return _number(text, float, 0)


def random_seed(text):
    """argparse type: a random seed, a whole number in [0, 2**32 - 1] (what
    `keras.utils.set_random_seed` and NumPy take)."""
    return _number(text, int, 0, 2**32 - 1)


def fraction(text):
    """argparse type: a float in [0, 1]."""
    return _number(text, float, 0, 1)


def load_keras_model(path):
    """`keras.saving.load_model(path, compile=False)` with a one-line KganError for a missing,
    corrupt or foreign file (kgan's classes are registered by importing kgan)."""
    if not os.path.isfile(path):
        raise KganError(f"no such model file: {path}")
    if str(path).endswith(".keras") and not zipfile.is_zipfile(path):
        # Keras would say "File not found" for a truncated archive.
        raise KganError(f"cannot load {path}: not a complete .keras file (a truncated or "
                        "damaged zip archive); save or copy it again")
    try:
        return keras.saving.load_model(path, compile=False)
    except Exception as error:  # noqa: BLE001 - Keras raises ValueError/TypeError/OSError/...
        lines = str(error).strip().splitlines() or [type(error).__name__]
        raise KganError(f"cannot load {path}: {lines[0]}") from None
