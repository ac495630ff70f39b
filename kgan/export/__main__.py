"""Export trained generators for TF Serving (`python -m kgan.export`).

Usage: python -m kgan.export --checkpoint RUN_DIR|FILE.keras --name NAME [--version N]
    [--export-base DIR] [--precision P]

Writes `EXPORT_BASE/NAME/VERSION/` (a SavedModel with the `serving_default` and
`translate_image` signatures) and prints its path. A run folder's generators are named as
the recipes' `--export NAME` names them: pix2pix's `generator.keras` as NAME, CycleGAN's
`generator_ab.keras` (A -> B) as NAME and `generator_ba.keras` (B -> A) as NAME_BtoA. VERSION
is the next free one of each name unless `--version` is given; an existing version is never
overwritten. The export computes in the precision the generator was trained in, or in
`--precision` (the signatures take and return float32 either way): `kgan.translate` and TF
Serving run the export as it was made.
"""

import argparse
import os
import sys

# Registers kgan's custom layers, if a generator uses any, so that load_model finds them.
import kgan.networks  # noqa: F401
from kgan.cli import load_keras_model, positive_int, run_reporting_errors
from kgan.errors import KganError
from kgan.export.savedmodel import export_generator, validate_name, with_precision
from kgan.models.training import PRECISIONS
from kgan.export.signatures import DEFAULT_MAX_PIXELS
from kgan.run_folder import GENERATORS, RunFolder


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m kgan.export", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--checkpoint", required=True, metavar="RUN_DIR|FILE.keras",
        help="a recipe's run folder (its final generators are exported) or a .keras file of "
        "one generator",
    )
    parser.add_argument("--name", required=True,
                        help="model name: EXPORT_BASE/NAME/VERSION (NAME_BtoA for CycleGAN's "
                        "B -> A generator)")
    parser.add_argument(
        "--version", type=positive_int, help="version number (default: the next free one)"
    )
    parser.add_argument(
        "--export-base", default="savedmodels", metavar="DIR",
        help="folder of exports (default: savedmodels)",
    )
    parser.add_argument(
        "--stride", type=positive_int,
        help="H and W must be multiples of this (default: counted from the strided layers)",
    )
    parser.add_argument(
        "--max-pixels", type=positive_int, default=DEFAULT_MAX_PIXELS, metavar="N",
        help="the largest image (height x width) the export translates, checked from the "
        f"file header before decoding (default {DEFAULT_MAX_PIXELS}, 4096x4096)",
    )
    parser.add_argument(
        "--image-size", type=positive_int,
        help="translate_image resizes images to this square size (default: each side to its "
        "nearest multiple of the stride)",
    )
    parser.add_argument(
        "--precision", choices=PRECISIONS,
        help="compute in this precision (default: the one the generator was trained in); "
        "e.g. float32 for a machine without fast bfloat16",
    )
    return parser.parse_args(argv)


def generator_files(checkpoint, name):
    """`(model name, .keras path)` of each generator `--checkpoint` holds, in export order.

    Raises:
        KganError: no generator there, or a model name is invalid.
    """
    if os.path.isdir(checkpoint):
        files = [(name + suffix, path) for suffix, path in RunFolder(checkpoint).saved_generators()]
    else:
        files = [(name, checkpoint)] if os.path.isfile(checkpoint) else []
    if not files:
        saved = ", ".join(f"{generator}.keras" for generator in GENERATORS)
        raise KganError(f"no generator at {checkpoint}: pass a run folder holding one of "
                        f"{saved}, or a .keras file")
    for model_name, _ in files:
        validate_name(model_name)
    return files


def _export(options):
    files = generator_files(options.checkpoint, options.name)
    # Loaded before anything is written, so a corrupt second file exports nothing.
    generators = [(model_name, load_keras_model(path)) for model_name, path in files]
    if options.precision:
        generators = [(model_name, with_precision(generator, options.precision))
                      for model_name, generator in generators]
    # With --version, NAME_BtoA/N existing must fail before NAME/N is written, not after.
    if options.version:
        for model_name, _ in files:
            existing = os.path.join(options.export_base, model_name, str(options.version))
            if os.path.exists(existing):
                raise KganError(f"{existing} exists already: pick another --version or leave "
                                "it out")
    for model_name, generator in generators:
        path = export_generator(
            generator,
            base_dir=options.export_base,
            name=model_name,
            version=options.version,
            stride=options.stride,
            image_size=options.image_size,
            max_pixels=options.max_pixels,
        )
        print(path)
    return 0


def main(argv=None):
    """Export the generator(s); returns the exit status (1 with a one-line error on failure)."""
    return run_reporting_errors(_export, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
