"""Export a trained generator for TF Serving (`python -m kgan.export`).

Usage: python -m kgan.export --checkpoint RUN_DIR --name NAME [--version N] [--base DIR]

Writes `BASE/NAME/VERSION/` (a SavedModel with the `serving_default` and `translate_image`
signatures) and prints its path. VERSION is the next free one unless `--version` is given; an
existing version is never overwritten.
"""

import argparse
import os
import sys

# Registers kgan's custom layers, if a generator uses any, so that load_model finds them.
import kgan.networks  # noqa: F401
from kgan.cli import load_keras_model, positive_int, run_reporting_errors
from kgan.errors import KganError
from kgan.export.savedmodel import export_generator

GENERATOR_FILE = "generator.keras"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m kgan.export", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--checkpoint", required=True,
        help=f"run folder holding {GENERATOR_FILE}, or a .keras file of the generator",
    )
    parser.add_argument("--name", required=True, help="model name: BASE/NAME/VERSION")
    parser.add_argument(
        "--version", type=positive_int, help="version number (default: the next free one)"
    )
    parser.add_argument(
        "--base", default="savedmodels", help="folder of exports (default: savedmodels)"
    )
    parser.add_argument(
        "--stride", type=positive_int,
        help="H and W must be multiples of this (default: counted from the strided layers)",
    )
    parser.add_argument(
        "--image-size", type=positive_int,
        help="translate_image resizes images to this square size (default: each side to its "
        "nearest multiple of the stride)",
    )
    return parser.parse_args(argv)


def load_generator(checkpoint):
    """Load the generator of a run folder (`RUN_DIR/generator.keras`) or a `.keras` file."""
    path = os.path.join(checkpoint, GENERATOR_FILE) if os.path.isdir(checkpoint) else checkpoint
    if not os.path.isfile(path):
        raise KganError(
            f"no generator at {path}: pass a run folder holding {GENERATOR_FILE} or a .keras file"
        )
    return load_keras_model(path)


def _export(options):
    generator = load_generator(options.checkpoint)
    path = export_generator(
        generator,
        base_dir=options.base,
        name=options.name,
        version=options.version,
        stride=options.stride,
        image_size=options.image_size,
    )
    print(path)
    return 0


def main(argv=None):
    """Export the generator; returns the exit status (1 with a one-line error on failure)."""
    return run_reporting_errors(_export, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
