"""inception: images per second of the FID Inception feature extractor.

Synthetic images of `--image-size` go through `inception_feature_extractor` (resize to 299 px
included) batch by batch, as `kgan.metrics.extract_features` feeds them.
"""

import numpy as np

from kgan.bench import common
from kgan.metrics.inception import FEATURE_PRECISION, inception_feature_extractor
from kgan.precision import precision_policy, resolve_precision


def add_arguments(parser):
    """Options of `python -m kgan.bench inception`."""
    parser.add_argument("--weights", default="fid", metavar="fid|imagenet|random|FILE",
                        help="fid (default; ported and cached on first use), imagenet, random "
                        "(no weights needed: same speed) or a .weights.h5 file of the FID "
                        "network")
    common.add_size_arguments(parser, image_size=256, batch_size=50, steps=10, warmup=1)
    # float32 by default, as every score kgan writes; mixed_bfloat16 measures the faster path.
    common.add_precision_arguments(parser, default=FEATURE_PRECISION)


def run(options):
    """Time feature extraction; returns the result line.

    Raises:
        KganError: the weights are unavailable (the message says how to get them).
    """
    common.reset_peak_memory()
    with precision_policy(resolve_precision(options.precision)):
        extractor = inception_feature_extractor(
            None if options.weights == "random" else options.weights)
        # Always explicit: Keras' default "auto" turns XLA on whenever a GPU is present.
        extractor.compile(jit_compile=options.jit_compile)
        shape = (options.batch_size, options.image_size, options.image_size, 3)
        images = np.random.default_rng(0).uniform(-1.0, 1.0, shape).astype(np.float32)
        seconds = common.time_steps(lambda: extractor.predict_on_batch(images),
                                    options.steps, options.warmup)
    return {
        "bench": "inception",
        "weights": options.weights,
        "image_size": options.image_size,
        "batch_size": options.batch_size,
        "steps": options.steps,
        "warmup": options.warmup,
        **common.rates(seconds, options.steps, options.batch_size, unit="batch", units="batches"),
        **common.peak_memory(),
        "precision": resolve_precision(options.precision),
        "jit_compile": bool(extractor.jit_compile),
        **common.environment(),
    }
