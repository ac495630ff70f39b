"""train pix2pix|cyclegan: training steps per second of a GAN at a given size.

The model is built as the recipes build it (paper defaults, `--base-filters` to shrink it) and
trained with `model.fit` on one in-memory batch repeated through tf.data, so the number is the
speed of the train step itself; the input pipeline has its own benchmark (`data`).
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
from kgan.models import CycleGAN, Pix2Pix
from kgan.models.training import mixed_precision_policy
from kgan.networks import patch_discriminator, resnet_generator, unet_generator

MODELS = ("pix2pix", "cyclegan")
DATA = ("synthetic", "bluemarble")


def add_arguments(parser):
    """Options of `python -m kgan.bench train`."""
    parser.add_argument("model", choices=MODELS, help="which GAN to train")
    parser.add_argument("--base-filters", type=positive_int, default=64,
                        help="filters of the first G and D layers (default 64, the paper's)")
    parser.add_argument("--n-blocks", type=positive_int,
                        help="CycleGAN residual blocks (default: 9 from 256 px up, else 6, "
                        "as in the paper)")
    parser.add_argument("--data", choices=DATA, default="synthetic",
                        help="the batch trained on: uniform noise (default) or bluemarble tiles")
    common.add_size_arguments(parser, image_size=256, batch_size=1, steps=20, warmup=3)
    common.add_precision_arguments(parser)


def build_pix2pix(image_size, base_filters):
    """Pix2Pix with the paper's U-Net (batch norm, dropout) and 70x70 PatchGAN."""
    generator = unet_generator(image_size, base_filters=base_filters)
    discriminator = patch_discriminator(70, conditional=True, base_filters=base_filters)
    return Pix2Pix(generator, discriminator)


def build_cyclegan(image_size, base_filters, n_blocks=None):
    """CycleGAN with the paper's ResNet generators, 70x70 PatchGANs and 50-image pools.

    Args:
        image_size: training size; also picks `n_blocks` when that is None (9 from 256 px
            up, else 6).
        base_filters: filters of the first layer of every network.
        n_blocks: residual blocks of each generator.
    """
    if n_blocks is None:
        n_blocks = 9 if image_size >= 256 else 6

    def generator(name):
        return resnet_generator(image_size, n_blocks=n_blocks, base_filters=base_filters,
                                name=name)

    def discriminator(name):
        return patch_discriminator(70, conditional=False, base_filters=base_filters,
                                   norm="instance", name=name)

    return CycleGAN(generator("generator_ab"), generator("generator_ba"),
                    discriminator("discriminator_a"), discriminator("discriminator_b"))


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


def run(options):
    """Build, compile and train the model; returns the result line as a dict."""
    common.reset_peak_memory()
    with mixed_precision_policy(options.mixed_precision):
        if options.model == "pix2pix":
            model = build_pix2pix(options.image_size, options.base_filters)
        else:
            model = build_cyclegan(options.image_size, options.base_filters, options.n_blocks)
        # Always explicit: Keras' default "auto" turns XLA on whenever a GPU is present.
        model.compile(jit_compile=options.jit_compile)
        if not model.built:  # CycleGAN's image pools take their buffer shape from here
            model.build((None, options.image_size, options.image_size, 3))
        batches = training_batches(options.data, options.image_size, options.batch_size)
        timer = StepTimer(options.warmup)
        model.fit(batches, epochs=1, steps_per_epoch=options.warmup + options.steps,
                  callbacks=[timer], shuffle=False, verbose=0)
    return {
        "bench": "train",
        "model": options.model,
        "image_size": options.image_size,
        "batch_size": options.batch_size,
        "steps": options.steps,
        "warmup": options.warmup,
        **common.rates(timer.seconds, options.steps, options.batch_size),
        **common.peak_memory(),
        "mixed_precision": options.mixed_precision,
        "jit_compile": bool(model.jit_compile),
        "base_filters": options.base_filters,
        "data": options.data,
        "trainable_parameters": sum(math.prod(v.shape) for v in model.trainable_weights),
        "final_losses": {
            name: common.rounded(value) if math.isfinite(value) else None
            for name, value in timer.last_logs.items()
        },
        **common.environment(),
    }
