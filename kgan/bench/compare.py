"""compare pix2pix|cyclegan|inception: float32 against the fastest configuration, in one process.

The baseline is the float32 configuration as kgan ran it before `--precision` existed: float32
compute and, for the GANs, separate discriminator calls on real and fake images and Keras'
own Adam (kgan's `FusedAdam` updates each weight tensor in one kernel). The
candidates are the precisions to try (default: this machine's default precision) with every
other speed-up on, each also under XLA with `--jit-compile`. All are built in one process
and timed in alternating rounds (baseline, candidates, baseline, ...), so that other load on
a shared machine slows them alike; a configuration's rate is its best round. The line holds
every configuration's images/s, the fastest candidate and `speedup`, its rate over the
baseline's: the number to re-measure on another machine.
"""

import keras
import numpy as np

from kgan.bench import common, train
from kgan.cli import positive_int
from kgan.metrics.inception import inception_feature_extractor
from kgan.models.training import build_optimizer
from kgan.precision import PRECISIONS, default_precision, precision_policy

MODELS = (*train.RECIPES, "inception")


def add_arguments(parser):
    """Options of `python -m kgan.bench compare`."""
    parser.add_argument("model", choices=MODELS,
                        help="a recipe's train step, or FID feature extraction (inception)")
    parser.add_argument("--precisions", nargs="+", choices=PRECISIONS, metavar="PRECISION",
                        help="candidate precisions: float32, mixed_bfloat16, mixed_float16 "
                        f"(default: this machine's default, {default_precision()})")
    parser.add_argument("--jit-compile", action="store_true",
                        help="also try each candidate under XLA")
    parser.add_argument("--rounds", type=positive_int, default=2,
                        help="timed rounds of every configuration, alternating (default 2)")
    parser.add_argument("--config", metavar="FILE.toml",
                        help="train: the recipe's options from this file")
    parser.add_argument("--base-filters", type=positive_int,
                        help="train: filters of the first G and D layers (default 64)")
    parser.add_argument("--weights", default="random", metavar="fid|imagenet|random|FILE",
                        help="inception: weights of the network (default random: no download, "
                        "same speed)")
    parser.add_argument("--data", choices=train.DATA, default="synthetic",
                        help="train: the batch trained on (default synthetic)")
    common.add_size_arguments(parser, image_size=None, batch_size=None, steps=10, warmup=3)


def _train_timer(options, precision, jit_compile, baseline=False):
    """`time(steps, warmup) -> seconds` of a recipe's train step in one configuration.

    The baseline calls the discriminator separately on real and fake images and updates the
    weights with Keras' own Adam, as kgan did before; other configurations keep the model's
    choices (`FusedAdam`; one discriminator call where the model fuses them).
    """
    options = _with(options, jit_compile=jit_compile)
    model_options, model, batches = train.build(options, precision)
    if baseline:  # before the first step traces the model
        model.fuse_discriminator_calls = False
        for name, variables in (("g_optimizer", model.generator_variables),
                                ("d_optimizer", model.discriminator_variables)):
            config = getattr(model, name).get_config()
            setattr(model, name, build_optimizer(keras.optimizers.Adam.from_config(config),
                                                 variables))
    describe = {**train.describe(options, model_options, model),
                "fused_discriminator_calls": bool(model.fuse_discriminator_calls),
                "optimizer": type(model.g_optimizer).__name__}

    def time(steps, warmup):
        return train.time_fit(model, batches, steps, warmup).seconds

    return describe, time, model_options.batch_size


def _inception_timer(options, precision, jit_compile, baseline=False):
    """`time(steps, warmup) -> seconds` of FID feature extraction in one configuration
    (`baseline` changes nothing: the network has no other choices)."""
    with precision_policy(precision):
        extractor = inception_feature_extractor(
            None if options.weights == "random" else options.weights)
        extractor.compile(jit_compile=jit_compile)
    image_size, batch_size = options.image_size or 256, options.batch_size or 50
    shape = (batch_size, image_size, image_size, 3)
    images = np.random.default_rng(0).uniform(-1.0, 1.0, shape).astype(np.float32)

    def time(steps, warmup):
        return common.time_steps(lambda: extractor.predict_on_batch(images), steps, warmup)

    describe = {"model": "inception", "weights": options.weights, "image_size": image_size,
                "batch_size": batch_size, "precision": precision, "jit_compile": jit_compile}
    return describe, time, batch_size


def _with(options, **changes):
    copy = type(options)(**vars(options))
    for key, value in changes.items():
        setattr(copy, key, value)
    return copy


def run(options):
    """Build the baseline and the candidates, time them in rounds; returns the result line."""
    timer = _inception_timer if options.model == "inception" else _train_timer
    options = _with(options, precision=None)
    precisions = options.precisions or [default_precision()]
    configurations = [timer(options, "float32", jit_compile=False, baseline=True)]
    for precision in precisions:
        for jit_compile in (False, True) if options.jit_compile else (False,):
            configurations.append(timer(options, precision, jit_compile=jit_compile))
    best = [float("inf")] * len(configurations)
    for round_index in range(options.rounds):
        # The first round pays tracing, compilation and allocation in its warmup.
        warmup = options.warmup if round_index == 0 else 1
        for index, (_, time, _) in enumerate(configurations):
            best[index] = min(best[index], time(options.steps, warmup))
    results = [
        {**describe, **common.rates(seconds, options.steps, batch_size)}
        for (describe, _, batch_size), seconds in zip(configurations, best)
    ]
    baseline, candidates = results[0], results[1:]
    fastest = max(candidates, key=lambda result: result["images_per_s"])
    return {
        "bench": "compare",
        "model": options.model,
        "steps": options.steps,
        "rounds": options.rounds,
        "baseline": baseline,
        "fastest": fastest,
        "speedup": common.rounded(fastest["images_per_s"] / baseline["images_per_s"]),
        "candidates": candidates,
        **common.peak_memory(),
        **common.environment(),
    }
