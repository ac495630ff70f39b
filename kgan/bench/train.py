"""train pix2pix|cyclegan: training steps per second of a GAN at a given size.

The model is the recipe's (`python -m kgan.recipes.NAME`): its options are parsed by the
recipe, from `--config` and the bench's overrides (`--image-size`, `--batch-size`,
`--base-filters`, `--precision`, `--jit-compile`), and it is built and compiled by the
recipe's `build_model`. It is trained with `model.fit` on one in-memory batch repeated
through tf.data, so the number is the speed of the train step itself; the input pipeline
has its own benchmark (`data`).
"""

import math
import time

import keras
import numpy as np
import tensorflow as tf

from kgan.bench import common
from kgan.cli import positive_int
from kgan.data.bluemarble import bluemarble_tiles
from kgan.data.transforms import to_float
from kgan.precision import precision_policy
from kgan.recipes.registry import RECIPES

DATA = ("synthetic", "bluemarble")


def add_arguments(parser):
    """Options of `python -m kgan.bench train`."""
    parser.add_argument("model", choices=tuple(RECIPES), help="which recipe's GAN to train")
    parser.add_argument("--config", metavar="FILE.toml",
                        help="the recipe's options from this file (e.g. recipes/*.toml: "
                        "--generator, --norm, losses); the bench's options win over it")
    parser.add_argument("--base-filters", type=positive_int,
                        help="filters of the first G and D layers (default: the recipe's, 64)")
    parser.add_argument("--data", choices=DATA, default="synthetic",
                        help="the batch trained on: uniform noise (default) or bluemarble tiles")
    common.add_size_arguments(parser, image_size=None, batch_size=None, steps=20, warmup=3)
    common.add_precision_arguments(parser)


def recipe_options(options, precision=None):
    """The recipe and its parsed options: `--config`, then the bench's overrides
    (`precision` instead of `options.precision` when given)."""
    argv = ["--config", options.config] if options.config else []
    for flag, value in (("--image-size", options.image_size),
                        ("--batch-size", options.batch_size),
                        ("--base-filters", options.base_filters),
                        ("--precision", precision or options.precision)):
        if value is not None:
            argv += [flag, str(value)]
    argv += ["--jit-compile"] * options.jit_compile
    recipe = RECIPES[options.model]
    return recipe, recipe.parse_args(argv)


def training_batches(data, image_size, batch_size):
    """One batch of `(a, b)`, float32 [batch_size, image_size, image_size, 3] in [-1, 1],
    repeated forever by tf.data.

    Args:
        data: "synthetic" (uniform noise) or "bluemarble" (the first training tiles, reused
            when there are fewer than `batch_size`).
    """
    shape = (batch_size, image_size, image_size, 3)
    if data == "synthetic":
        rng = np.random.default_rng(0)
        a, b = (rng.uniform(-1.0, 1.0, shape).astype(np.float32) for _ in range(2))
    else:
        satellite, topography = bluemarble_tiles("train", image_size)
        index = np.arange(batch_size) % len(satellite)
        a, b = to_float(satellite[index]), to_float(topography[index])
    return tf.data.Dataset.from_tensors((a, b)).repeat().prefetch(tf.data.AUTOTUNE)


class StepTimer(keras.callbacks.Callback):
    """Times the steps of `fit` after the first `warmup` ones.

    A callback with a batch hook receives the step's logs as Python floats, so Keras has
    waited for the step to finish on the device before each timestamp.
    """

    def __init__(self, warmup):
        super().__init__()
        self.warmup = warmup
        self.start = None
        self.stop = None
        self.last_logs = {}

    def on_train_batch_end(self, batch, logs=None):
        """Stamp the end of step `batch` and keep its logs (the last step's are reported)."""
        now = time.perf_counter()
        if batch == self.warmup - 1:
            self.start = now
        self.stop = now
        self.last_logs = dict(logs or {})

    @property
    def seconds(self):
        """Time from the end of the last warmup step to the end of the last step."""
        return self.stop - self.start


def build(options, precision=None):
    """The recipe's options, its compiled model under their precision, and its batches."""
    recipe, model_options = recipe_options(options, precision)
    with precision_policy(model_options.precision):
        model = recipe.build_model(model_options, options.warmup + options.steps)
    batches = training_batches(options.data, model_options.image_size, model_options.batch_size)
    return model_options, model, batches


def time_fit(model, batches, steps, warmup):
    """Train `warmup` untimed then `steps` timed steps with `fit`; returns the `StepTimer`."""
    timer = StepTimer(warmup)
    model.fit(batches, epochs=1, steps_per_epoch=warmup + steps, callbacks=[timer],
              shuffle=False, verbose=0)
    return timer


def describe(options, model_options, model):
    """The fields of a result line that say what was trained."""
    return {
        "model": options.model,
        "config": options.config,
        "image_size": model_options.image_size,
        "batch_size": model_options.batch_size,
        "precision": model_options.precision,
        "jit_compile": bool(model.jit_compile),
        "base_filters": model_options.base_filters,
        "data": options.data,
    }


def run(options):
    """Build, compile and train the recipe's model; returns the result line as a dict."""
    common.reset_peak_memory()
    model_options, model, batches = build(options)
    timer = time_fit(model, batches, options.steps, options.warmup)
    return {
        "bench": "train",
        **describe(options, model_options, model),
        "steps": options.steps,
        "warmup": options.warmup,
        **common.rates(timer.seconds, options.steps, model_options.batch_size),
        **common.peak_memory(),
        "trainable_parameters": sum(math.prod(v.shape) for v in model.trainable_weights),
        "final_losses": {
            name: common.rounded(value) if math.isfinite(value) else None
            for name, value in timer.last_logs.items()
        },
        **common.environment(),
    }
