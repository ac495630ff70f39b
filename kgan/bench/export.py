"""export: time and size of a U-Net generator's SavedModel, and its serving speed.

The generator is exported with `kgan.export.export_generator` into a temporary folder, loaded
back with `tf.saved_model.load` (TensorFlow only, as a server would) and its `serving_default`
signature called on a batch of synthetic images.
"""

import os
import tempfile
import time

import numpy as np
import tensorflow as tf

from kgan.bench import common
from kgan.cli import positive_int
from kgan.export import export_generator
from kgan.models.training import precision_policy, resolve_precision
from kgan.networks import unet_generator


def add_arguments(parser):
    """Options of `python -m kgan.bench export`."""
    parser.add_argument("--base-filters", type=positive_int, default=64,
                        help="filters of the U-Net's first layer (default 64, the paper's)")
    common.add_size_arguments(parser, image_size=256, batch_size=1, steps=20, warmup=2)
    common.add_precision_arguments(parser, jit_compile=False)


def folder_size(path):
    """Bytes of all files under `path`."""
    return sum(os.path.getsize(os.path.join(root, name))
               for root, _, names in os.walk(path) for name in names)


def run(options):
    """Export, load and serve the generator; returns the result line."""
    common.reset_peak_memory()
    with precision_policy(resolve_precision(options.precision)):
        generator = unet_generator(options.image_size, base_filters=options.base_filters)
    with tempfile.TemporaryDirectory(prefix="kgan_bench_") as base:
        start = time.perf_counter()
        path = export_generator(generator, base, name="bench", version=1)
        export_seconds = time.perf_counter() - start
        size = folder_size(path)
        start = time.perf_counter()
        serve = tf.saved_model.load(path).signatures["serving_default"]
        load_seconds = time.perf_counter() - start
        shape = (options.batch_size, options.image_size, options.image_size, 3)
        images = tf.constant(np.random.default_rng(0).uniform(-1.0, 1.0, shape), tf.float32)
        seconds = common.time_steps(lambda: serve(images=images)["images"].numpy(),
                                    options.steps, options.warmup)
    return {
        "bench": "export",
        "image_size": options.image_size,
        "base_filters": options.base_filters,
        "export_s": common.rounded(export_seconds),
        "savedmodel_mb": common.rounded(size / 2**20),
        "load_s": common.rounded(load_seconds),
        "batch_size": options.batch_size,
        "steps": options.steps,
        "warmup": options.warmup,
        **common.rates(seconds, options.steps, options.batch_size, unit="batch", units="batches"),
        **common.peak_memory(),
        "precision": resolve_precision(options.precision),
        **common.environment(),
    }
