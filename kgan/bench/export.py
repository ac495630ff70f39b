"""export: time and size of a U-Net generator's export (SavedModel, ONNX or LiteRT), and its speed.

The generator is exported with `kgan.export` into a temporary folder and loaded back as a
server or an app would: the SavedModel with `tf.saved_model.load` (its `serving_default`
signature is timed), the ONNX file in ONNX Runtime, the LiteRT file in the LiteRT interpreter
(`kgan.export.runners`; the generator alone, on float32 arrays, is timed). `max_abs_diff` is
the largest difference of the timed output from the Keras generator's (in float32 for ONNX
and LiteRT, which compute in float32).
"""

import os
import tempfile
import time

import numpy as np
import tensorflow as tf

from kgan.bench import common
from kgan.cli import positive_int
from kgan.errors import ConfigError
from kgan.export import export_generator
from kgan.export.extras import require
from kgan.export.litert_file import WEIGHTS
from kgan.export.portable import FORMATS, export_file, float32_generator, open_bytes
from kgan.networks import unet_generator
from kgan.precision import precision_policy, resolve_precision


def add_arguments(parser):
    """Options of `python -m kgan.bench export`."""
    parser.add_argument("--base-filters", type=positive_int, default=64,
                        help="filters of the U-Net's first layer (default 64, the paper's)")
    parser.add_argument("--format", default="savedmodel", choices=FORMATS,
                        help="export format (default savedmodel)")
    parser.add_argument("--weights", default="float32", choices=WEIGHTS,
                        help="LiteRT weights (default float32)")
    common.add_size_arguments(parser, image_size=256, batch_size=1, steps=20, warmup=2)
    common.add_precision_arguments(parser, jit_compile=False)


def folder_size(path):
    """Bytes of all files under `path` (or of the file `path`)."""
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(root, name))
               for root, _, names in os.walk(path) for name in names)


def _load(path, format_name):
    """`serve(images) -> outputs` (float32 NumPy [N, H, W, 3]) of the export at `path`."""
    if format_name == "savedmodel":
        signature = tf.saved_model.load(path).signatures["serving_default"]
        return lambda images: signature(images=tf.constant(images))["images"].numpy()
    with open(path, "rb") as file:
        return open_bytes(file.read(), format_name, path).run


def run(options):
    """Export, load and serve the generator; returns the result line."""
    if options.weights != "float32" and options.format != "litert":
        raise ConfigError(f"--weights {options.weights} is for --format litert only")
    require(options.format)
    common.reset_peak_memory()
    precision = resolve_precision(options.precision)
    with precision_policy(precision):
        generator = unet_generator(options.image_size, base_filters=options.base_filters)
    if options.format != "savedmodel":
        generator, precision = float32_generator(generator), "float32"
    shape = (options.batch_size, options.image_size, options.image_size, 3)
    images = np.random.default_rng(0).uniform(-1.0, 1.0, shape).astype(np.float32)
    with tempfile.TemporaryDirectory(prefix="kgan_bench_") as base:
        start = time.perf_counter()
        if options.format == "savedmodel":
            path = export_generator(generator, base, name="bench", version=1)
        else:
            path = export_file(generator, options.format, base, name="bench", version=1,
                               weights=options.weights)
        export_seconds = time.perf_counter() - start
        size = folder_size(path)
        start = time.perf_counter()
        serve = _load(path, options.format)
        load_seconds = time.perf_counter() - start
        difference = np.abs(serve(images) - generator(images, training=False)).max()
        seconds = common.time_steps(lambda: serve(images), options.steps, options.warmup)
    return {
        "bench": "export",
        "format": options.format,
        "weights": options.weights if options.format == "litert" else "float32",
        "image_size": options.image_size,
        "base_filters": options.base_filters,
        "export_s": common.rounded(export_seconds),
        "size_mb": common.rounded(size / 2**20),
        "load_s": common.rounded(load_seconds),
        "max_abs_diff": common.rounded(float(difference)),
        "batch_size": options.batch_size,
        "steps": options.steps,
        "warmup": options.warmup,
        **common.rates(seconds, options.steps, options.batch_size, unit="batch", units="batches"),
        **common.peak_memory(),
        "precision": precision,
        **common.environment(),
    }
