"""What kgan's command lines share: one-line errors with exit codes, and argparse types."""

import argparse
import math
import os
import signal
import sys

import keras

import kgan
from kgan.errors import ConfigError, KganError


def run_reporting_errors(function, *args):
    """Call `function(*args)`; print a kgan error as one line on stderr instead of raising.

    Returns:
        int: `function`'s exit status, 2 for a ConfigError, 1 for another KganError.
    """
    if signal.getsignal(signal.SIGINT) is kgan._interrupted_at_start_up:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return function(*args)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KganError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        # A full disk, a read-only folder, a file where a folder should be: the environment,
        # not a bug, so one line too (the strerror and the file name say what to fix).
        print(f"error: {os_error_line(error)}", file=sys.stderr)
        return 1


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


def fraction(text):
    """argparse type: a float in [0, 1]."""
    return _number(text, float, 0, 1)


def load_keras_model(path):
    """`keras.saving.load_model(path, compile=False)` with a one-line KganError for a missing,
    corrupt or foreign file (kgan's classes are registered by importing kgan)."""
    if not os.path.isfile(path):
        raise KganError(f"no such model file: {path}")
    try:
        return keras.saving.load_model(path, compile=False)
    except Exception as error:  # noqa: BLE001 - Keras raises ValueError/TypeError/OSError/...
        lines = str(error).strip().splitlines() or [type(error).__name__]
        raise KganError(f"cannot load {path}: {lines[0]}") from None
