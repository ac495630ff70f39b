"""data: batches per second of the paired training pipeline, jitter and flip included.

The source is read as the pix2pix recipe reads it (`paired_source`) and goes through
`prepare_pairs(..., training=True)`: resize, cache, shuffle, repeat, batch, jitter, flip.
The warmup batches fill the shuffle buffer (and, for a set smaller than the buffer, the
cache); the timed ones are the steady state a training loop sees.
"""

import contextlib
import sys
import time

from kgan.bench import common
from kgan.data.paired import BUILT_IN, DOWNLOADABLE, paired_source, prepare_pairs


def add_arguments(parser):
    """Options of `python -m kgan.bench data`."""
    parser.add_argument("--dataset", default="bluemarble", choices=BUILT_IN + DOWNLOADABLE,
                        help="named data set (default: bluemarble, built in)")
    parser.add_argument("--data-dir", metavar="DIR",
                        help="a folder in pix2pix layout (SPLIT/*.jpg, A|B side by side), read "
                        "instead of --dataset")
    parser.add_argument("--split", default="train", choices=("train", "val", "test"),
                        help="split to read (default train)")
    common.add_size_arguments(parser, image_size=256, batch_size=1, steps=500, warmup=20)


def run(options):
    """Time `options.steps` batches of the training pipeline; returns the result line."""
    start = time.perf_counter()
    # Folder sources report what they found on stdout; stdout is for the result line only.
    with contextlib.redirect_stdout(sys.stderr):
        source = paired_source(options.dataset, options.split, options.data_dir,
                               options.image_size)
    source_seconds = time.perf_counter() - start
    batches = iter(prepare_pairs(source, options.image_size, options.batch_size, training=True))
    # Iterating yields eager tensors the pipeline has finished computing.
    seconds = common.time_steps(lambda: next(batches), options.steps, options.warmup)
    return {
        "bench": "data",
        "dataset": options.data_dir or options.dataset,
        "split": options.split,
        "pairs": int(source.cardinality()),
        "image_size": options.image_size,
        "batch_size": options.batch_size,
        "steps": options.steps,
        "warmup": options.warmup,
        **common.rates(seconds, options.steps, options.batch_size, unit="batch", units="batches"),
        "source_s": common.rounded(source_seconds),
        **common.peak_memory(),
        **common.environment(),
    }
