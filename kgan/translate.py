"""Translate image files with an exported generator (`python -m kgan.translate`).

Usage: python -m kgan.translate --model savedmodels/NAME[/VERSION]|FILE.onnx|FILE.tflite
    --input DIR_OR_FILES --output DIR

Uses only the export, not the training code: a SavedModel's `translate_image` signature, or an
ONNX file in ONNX Runtime, or a LiteRT file in the LiteRT interpreter, with the same decoding,
resizing and bounds around them (`kgan.export.runners`). Each JPEG or PNG is translated at its
own size and written as `DIR/<file name>.png`. An output that
would overwrite an input stops the command before anything is written; a file that is not
an image, or larger than the export's `max_pixels` (read from the header), is skipped.
"""

import argparse
import os
import struct
import sys

import keras
from PIL import Image

from kgan.atomic import write_bytes
from kgan.cli import run_reporting_errors
from kgan.data import folders
from kgan.errors import KganError
from kgan.export.open_runner import open_runner
from kgan.export.runners import ImageError

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m kgan.translate", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--model", required=True,
        help="savedmodels/NAME (latest SavedModel version), savedmodels/NAME/VERSION, or an "
        "ONNX or LiteRT file: savedmodels/NAME/VERSION.onnx, savedmodels/NAME/VERSION.tflite",
    )
    parser.add_argument(
        "--input", required=True, nargs="+",
        help="image files, or folders whose .jpg/.jpeg/.png files are translated",
    )
    parser.add_argument("--output", required=True, help="folder for the translated PNGs")
    return parser.parse_args(argv)


def output_paths(files, output_dir):
    """`output_dir/<base name>.png` for each file; two inputs may not share a base name, and
    no output may be an input (translating a folder of PNGs into itself)."""
    if os.path.exists(output_dir) and not os.path.isdir(output_dir):
        raise KganError(f"--output {output_dir} is a file, not a folder: pass a folder")
    inputs = {os.path.realpath(path): path for path in files}
    paths = {}
    for path in files:
        out = os.path.join(output_dir, os.path.splitext(os.path.basename(path))[0] + ".png")
        if out in paths:
            raise KganError(f"{paths[out]} and {path} would both be written to {out}: rename one")
        if os.path.realpath(out) in inputs:
            raise KganError(f"{out} would overwrite the input {inputs[os.path.realpath(out)]}: "
                            "pass another --output folder")
        paths[out] = path
    return list(paths)


def image_size(path):
    """`(width, height)` of a PNG or JPEG from its header, without decoding; None if unknown.

    PNG sizes are read from the IHDR bytes, as the serving signature reads them, so a file
    whose later chunks Pillow cannot parse is still measured.
    """
    with open(path, "rb") as file:
        header = file.read(24)
    if header.startswith(PNG_MAGIC) and len(header) == 24:
        return struct.unpack(">II", header[16:24])
    # Pillow's own bound would refuse the very files to be reported; only the header is read.
    limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
    try:
        with Image.open(path) as image:
            return image.size
    except (OSError, SyntaxError, ValueError):
        return None
    finally:
        Image.MAX_IMAGE_PIXELS = limit


def oversized(path, max_pixels):
    """Why `path` is too large to translate, read from its header; None when it is not (or
    is no image: the signature says so)."""
    try:
        size = image_size(path)
    except OSError:
        return None  # unreadable: reported when it is read
    if size is None:
        return None
    width, height = size
    if width * height > max_pixels:
        return f"{width}x{height} is larger than the {max_pixels} pixels this export accepts"
    return None


def _translate(options):
    files = folders.image_files(options.input)
    outputs = output_paths(files, options.output)
    runner = open_runner(options.model)
    os.makedirs(options.output, exist_ok=True)

    failed = 0
    progress = keras.utils.Progbar(len(files), unit_name="image")
    for step, (path, out) in enumerate(zip(files, outputs), start=1):
        reason = oversized(path, runner.max_pixels)
        if reason is None:
            try:
                with open(path, "rb") as file:
                    data = file.read()
                png = runner.translate_file(data)
            except ImageError as error:
                reason = str(error)
            except OSError as error:
                reason = error.strerror or type(error).__name__
        if reason is None:
            write_bytes(out, png)
        else:
            failed += 1
            print(f"\nskipped {path}: {reason}", file=sys.stderr)
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
