"""What the export and translate command lines share: error reporting and argument types."""

import argparse
import sys

from kgan.errors import ConfigError, KganError


def run_reporting_errors(function, *args):
    """Call `function(*args)`; print a kgan error as one line on stderr instead of raising.

    Returns:
        int: `function`'s exit status, 2 for a ConfigError, 1 for another KganError.
    """
    try:
        return function(*args)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KganError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


def positive_int(text):
    """argparse type: a whole number >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def error_reason(error):
    """The readable line of a TensorFlow error: the failed check's message, else its first line."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    for line in lines:
        if line.startswith("assertion failed:"):
            return line[len("assertion failed:"):].strip().replace("] [", " ").strip("[]")
    lines = [line for line in lines if line != "Graph execution error:"]
    return lines[0] if lines else type(error).__name__
