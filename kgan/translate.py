"""Translate image files with an exported generator (`python -m kgan.translate`).

Usage: python -m kgan.translate --model savedmodels/NAME[/VERSION] --input DIR_OR_FILES --output DIR

Uses only the SavedModel (its `translate_image` signature), not the training code: each JPEG
or PNG is translated at its own size and written as `DIR/<file name>.png`.
"""

import argparse
import os
import sys

import keras
import tensorflow as tf

from kgan.atomic import write_bytes
from kgan.cli import run_reporting_errors
from kgan.data import folders
from kgan.errors import KganError
from kgan.export.cli import error_reason
from kgan.export.savedmodel import resolve_export


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m kgan.translate", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--model", required=True,
        help="savedmodels/NAME (latest version) or savedmodels/NAME/VERSION",
    )
    parser.add_argument(
        "--input", required=True, nargs="+",
        help="image files, or folders whose .jpg/.jpeg/.png files are translated",
    )
    parser.add_argument("--output", required=True, help="folder for the translated PNGs")
    return parser.parse_args(argv)


def output_paths(files, output_dir):
    """`output_dir/<base name>.png` for each file; two inputs may not share a base name."""
    paths = {}
    for path in files:
        out = os.path.join(output_dir, os.path.splitext(os.path.basename(path))[0] + ".png")
        if out in paths:
            raise KganError(f"{paths[out]} and {path} would both be written to {out}: rename one")
        paths[out] = path
    return list(paths)


def load_translate_signature(model_path):
    """The `translate_image` signature of the export at `model_path` (latest version)."""
    export_dir = resolve_export(model_path)
    loaded = tf.saved_model.load(export_dir)
    if "translate_image" not in loaded.signatures:
        raise KganError(f"{export_dir} has no translate_image signature: export it with kgan")
    return loaded.signatures["translate_image"]


def _translate(options):
    files = folders.image_files(options.input)
    outputs = output_paths(files, options.output)
    translate_image = load_translate_signature(options.model)
    os.makedirs(options.output, exist_ok=True)

    failed = 0
    progress = keras.utils.Progbar(len(files), unit_name="image")
    for step, (path, out) in enumerate(zip(files, outputs), start=1):
        with open(path, "rb") as file:
            data = file.read()
        try:
            png = translate_image(image_bytes=tf.constant([data]))["image_bytes"][0].numpy()
        except tf.errors.InvalidArgumentError as error:
            failed += 1
            print(f"\nskipped {path}: {error_reason(error)}", file=sys.stderr)
        else:
            write_bytes(out, png)
        progress.update(step)
    if failed:
        raise KganError(f"{failed} of {len(files)} images could not be translated (see above)")
    print(f"wrote {len(files)} PNGs to {options.output}")
    return 0


def main(argv=None):
    """Translate the images; returns the exit status (1 with a one-line error on failure)."""
    return run_reporting_errors(_translate, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
