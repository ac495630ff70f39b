"""Export trained generators as SavedModels, ONNX or LiteRT files (`python -m kgan.export`).

Usage: python -m kgan.export --checkpoint RUN_DIR|FILE.keras --name NAME [--version N]
    [--export-base DIR] [--format savedmodel|onnx|litert] [--precision P] [--weights W]

Writes `EXPORT_BASE/NAME/VERSION/` (a SavedModel for TF Serving with the `serving_default` and
`translate_image` signatures; the default), `EXPORT_BASE/NAME/VERSION.onnx` (`--format onnx`,
ONNX Runtime) or `EXPORT_BASE/NAME/VERSION.tflite` (`--format litert`, the LiteRT
interpreter), and prints its path. The ONNX and LiteRT files hold the generator alone:
float32 NHWC images in [-1, 1] in and out, computed in float32 (`kgan.export.portable`). A run folder's generators are named as
the recipes' `--export NAME` names them: pix2pix's `generator.keras` as NAME, CycleGAN's
`generator_ab.keras` (A -> B) as NAME and `generator_ba.keras` (B -> A) as NAME_BtoA. VERSION
is the next free one of each name and format unless `--version` is given; an existing version
is never overwritten. A SavedModel computes in the precision the generator was trained in, or in
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
from kgan.export.extras import require
from kgan.export.litert_file import WEIGHTS
from kgan.export.portable import EXTENSIONS, FORMATS, export_file
from kgan.export.savedmodel import export_generator, validate_name, with_precision
from kgan.export.signatures import DEFAULT_MAX_PIXELS
from kgan.models import MODELS
from kgan.precision import PRECISIONS
from kgan.run_folder import RunFolder

# The generators a run folder of an older kgan (without model.json) may hold.
KNOWN_EXPORTS = {name: value for model in MODELS for name, value in model.EXPORTS.items()}


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
        "--format", default="savedmodel", choices=FORMATS,
        help="savedmodel (default: TF Serving, kgan.translate), onnx (NAME/VERSION.onnx, "
        'ONNX Runtime; pip install "kgan[onnx]") or litert (NAME/VERSION.tflite, LiteRT; '
        'pip install "kgan[litert]")',
    )
    parser.add_argument(
        "--precision", choices=PRECISIONS,
        help="SavedModel: compute in this precision (default: the one the generator was "
        "trained in); e.g. float32 for a machine without fast bfloat16. ONNX and LiteRT "
        "files always compute in float32",
    )
    parser.add_argument(
        "--weights", choices=WEIGHTS, default="float32",
        help="LiteRT: store the weights as float32 (default) or float16 (half the file; "
        "computed in float32)",
    )
    return parser.parse_args(argv)


def generator_files(checkpoint, name):
    """`(model name, .keras path)` of each generator `--checkpoint` holds, in export order.

    Raises:
        KganError: no generator there, or a model name is invalid.
    """
    if os.path.isdir(checkpoint):
        saved = RunFolder(checkpoint).saved_generators(KNOWN_EXPORTS)
        files = [(name + suffix, path) for suffix, path in saved]
    else:
        files = [(name, checkpoint)] if os.path.isfile(checkpoint) else []
    if not files:
        saved = ", ".join(f"{generator}.keras" for generator in KNOWN_EXPORTS)
        raise KganError(f"no generator at {checkpoint}: pass a run folder holding one of "
                        f"{saved}, or a .keras file")
    for model_name, _ in files:
        validate_name(model_name)
    return files


def _export(options):
    files = generator_files(options.checkpoint, options.name)
    if options.format != "savedmodel" and options.precision not in (None, "float32"):
        raise KganError(f"--precision {options.precision} is for SavedModels: {options.format} "
                        "files compute in float32 (see --weights for smaller LiteRT files)")
    if options.weights != "float32" and options.format != "litert":
        raise KganError(f"--weights {options.weights} is for --format litert only")
    require(options.format)
    extension = EXTENSIONS.get(options.format, "")
    # Loaded before anything is written, so a corrupt second file exports nothing.
    generators = [(model_name, load_keras_model(path)) for model_name, path in files]
    if options.precision:
        generators = [(model_name, with_precision(generator, options.precision))
                      for model_name, generator in generators]
    # With --version, NAME_BtoA/N existing must fail before NAME/N is written, not after.
    if options.version:
        for model_name, _ in files:
            existing = os.path.join(options.export_base, model_name,
                                    f"{options.version}{extension}")
            if os.path.exists(existing):
                raise KganError(f"{existing} exists already: pick another --version or leave "
                                "it out")
    for model_name, generator in generators:
        settings = dict(base_dir=options.export_base, name=model_name, version=options.version,
                        stride=options.stride, image_size=options.image_size,
                        max_pixels=options.max_pixels)
        if options.format == "savedmodel":
            path = export_generator(generator, **settings)
        else:
            path = export_file(generator, options.format, weights=options.weights, **settings)
        print(path)
    return 0


def main(argv=None):
    """Export the generator(s); returns the exit status (1 with a one-line error on failure)."""
    return run_reporting_errors(_export, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
