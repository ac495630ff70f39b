"""Train CycleGAN: `python -m kgan.recipes.cyclegan [--dataset bluemarble] [options]`.

Defaults are the paper's: 256 px, batch 1, Adam(2e-4, beta1 0.5), LSGAN loss, cycle
weight 10 with L1, identity weight 0.5 (relative to the cycle weight), ResNet generators
with 9 blocks and instance norm, 70x70 PatchGANs, a 50-image history pool, jitter
286 -> 256 and flips, and the learning rate held for the first half of the epochs then
decayed linearly to zero. An epoch shows every image of the larger domain once.

The run folder (see `kgan.recipes.common`) ends with `generator_ab.keras` (A -> B) and
`generator_ba.keras` (B -> A); its sample grids show A -> B -> A and B -> A -> B rows.
`--export NAME` also writes both as SavedModels for TF Serving, A -> B as NAME and B -> A as
NAME_BtoA; `--eval-every N` adds FID and precision/recall of the A -> B translations of the
test A images (against the test B images) to the history.
"""

import argparse
import os

import keras

from kgan import losses
from kgan.callbacks.cycle_samples import CycleSamples
from kgan.cli import non_negative_float, positive_int
from kgan.data.folders import ON_BAD_IMAGE, describe_folder
from kgan.data.tfds_cycle_gan import CYCLE_GAN_SETS
from kgan.data.unpaired import BUILT_IN, prepare_unpaired, steps_per_epoch, unpaired_source
from kgan.errors import ConfigError
from kgan.models import CycleGAN
from kgan.models.training import mixed_precision_policy
from kgan.networks import RECEPTIVE_FIELDS, patch_discriminator, resnet_generator, unet_generator
from kgan.networks.layers import NORMS
from kgan.recipes import common
from kgan.schedules import ConstantThenLinearDecay

GENERATORS = ("resnet9", "resnet6", "unet")
# --export NAME writes G (A -> B) as NAME and F (B -> A) as NAME + BTOA_SUFFIX.
BTOA_SUFFIX = "_BtoA"


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m kgan.recipes.cyclegan",
        description="Train CycleGAN (unpaired image-to-image translation).",
    )
    data = parser.add_argument_group("data")
    data.add_argument("--dataset", default="bluemarble", choices=BUILT_IN + CYCLE_GAN_SETS,
                      help="named data set (default: bluemarble, built in: satellite tiles A, "
                      "map tiles B, paired only for evaluation); the others are downloaded "
                      "once through TFDS (cycle_gan/<name>) into --tfds-dir")
    data.add_argument("--data-dir", help="your own folder with trainA/ trainB/ testA/ testB/ "
                      "(JPEG or PNG, any size), used instead of --dataset")
    data.add_argument("--tfds-dir", help="TFDS data dir for named sets (default: $TFDS_DATA_DIR "
                      "or ~/tensorflow_datasets); offline, put the archive in "
                      "<tfds-dir>/downloads/manual/")
    data.add_argument("--on-bad-image", default="error", choices=ON_BAD_IMAGE,
                      help="a truncated or non-image file in --data-dir: stop before "
                      "training (error, default) or leave it out (skip)")
    data.add_argument("--image-size", type=positive_int, default=256,
                      help="square training size, a multiple of 4 from 32 to 512 (a power "
                      "of two for --generator unet; default 256)")
    data.add_argument("--augment-on-device", action="store_true",
                      help="jitter/flip at the start of train_step instead of in tf.data")

    model = parser.add_argument_group("model")
    model.add_argument("--generator", default="resnet9", choices=GENERATORS,
                       help="ResNet with 9 (256 px in the paper) or 6 (128 px) blocks, or "
                       "the pix2pix U-Net (default resnet9)")
    model.add_argument("--base-filters", type=positive_int, default=64,
                       help="filters of the first G and D layers (default 64)")
    model.add_argument("--norm", default="instance", choices=NORMS,
                       help="normalisation (instance)")
    model.add_argument("--patch", type=int, default=70, choices=RECEPTIVE_FIELDS,
                       help="discriminator receptive field in pixels (default 70)")
    model.add_argument("--pool-size", type=int, default=50,
                       help="fakes kept in each discriminator's history pool (default 50; "
                       "0 disables)")

    objective = parser.add_argument_group("objective")
    objective.add_argument("--gan-loss", default="lsgan", choices=tuple(losses.ADVERSARIAL),
                           help="adversarial loss (default lsgan)")
    objective.add_argument("--cycle-loss", default="l1", choices=tuple(losses.RECONSTRUCTION),
                           help="cycle (and identity) reconstruction loss (default l1)")
    objective.add_argument("--cycle-weight", type=non_negative_float, default=10.0,
                           help="lambda, the cycle-consistency weight (default 10)")
    objective.add_argument("--identity-weight", type=non_negative_float, default=0.5,
                           help="identity loss weight relative to --cycle-weight (default "
                           "0.5; 0 disables)")

    training = parser.add_argument_group("training")
    training.add_argument("--epochs", type=positive_int, default=200)
    training.add_argument("--decay-epochs", type=int,
                          help="last epochs over which the learning rate decays linearly to "
                          "zero (default: half of --epochs)")
    training.add_argument("--steps-per-epoch", type=positive_int,
                          help="default: one pass over the larger domain")
    training.add_argument("--batch-size", type=positive_int, default=1)
    training.add_argument("--lr", type=non_negative_float, default=2e-4)
    training.add_argument("--beta1", type=non_negative_float, default=0.5)
    training.add_argument("--seed", type=int, default=0)

    output = parser.add_argument_group("output")
    output.add_argument("--out", help="run folder (default runs/cyclegan_<dataset>); rerunning "
                        "with the same --out resumes")
    output.add_argument("--samples", type=positive_int, default=4,
                        help="test examples of each domain in each sample grid (default 4)")
    common.add_export_arguments(output, "G (A -> B) to EXPORT_BASE/NAME/VERSION/ and F "
                                f"(B -> A) to EXPORT_BASE/NAME{BTOA_SUFFIX}/VERSION/")
    common.add_eval_arguments(parser, " of G's translations of test A images against the test "
                              "B images (unpaired: no PSNR/SSIM)")
    common.add_performance_arguments(parser)
    common.add_config_argument(parser)
    return parser


def parse_args(argv=None):
    """Parse command-line options (and `--config`) into a checked namespace."""
    options = common.parse_with_config(build_parser(), argv)
    if options.out is None:
        name = os.path.basename(os.path.normpath(options.data_dir)) if options.data_dir else options.dataset
        options.out = os.path.join("runs", f"cyclegan_{name}")
    if options.decay_epochs is None:
        options.decay_epochs = options.epochs // 2
    if not 0 <= options.decay_epochs <= options.epochs:
        raise ConfigError(f"--decay-epochs must lie in [0, --epochs={options.epochs}], got {options.decay_epochs}")
    if options.pool_size < 0:
        raise ConfigError(f"--pool-size must be >= 0, got {options.pool_size}")
    if options.export is not None:
        common.check_export(options, export_names(options.export))
    common.check_eval(options)
    return options


def export_names(name):
    """The model names `--export NAME` writes: G (A -> B), then F (B -> A)."""
    return [name, f"{name}{BTOA_SUFFIX}"]


def build_generator(options, name):
    """One generator of the kind `--generator` names."""
    if options.generator == "unet":
        return unet_generator(options.image_size, base_filters=options.base_filters,
                              norm=options.norm, dropout=0.0, name=name)
    n_blocks = 9 if options.generator == "resnet9" else 6
    return resnet_generator(options.image_size, n_blocks=n_blocks,
                            base_filters=options.base_filters, norm=options.norm, name=name)


def build_model(options, steps_per_epoch):
    """The compiled and built CycleGAN these options describe."""
    discriminator = lambda name: patch_discriminator(
        options.patch, conditional=False, base_filters=options.base_filters, norm=options.norm,
        name=name,
    )
    model = CycleGAN(
        build_generator(options, "generator_ab"), build_generator(options, "generator_ba"),
        discriminator("discriminator_a"), discriminator("discriminator_b"),
        pool_size=options.pool_size, augment_on_device=options.augment_on_device,
        seed=options.seed,
    )

    def optimizer():
        schedule = ConstantThenLinearDecay(
            options.lr, (options.epochs - options.decay_epochs) * steps_per_epoch,
            options.decay_epochs * steps_per_epoch,
        )
        return keras.optimizers.Adam(schedule, beta_1=options.beta1)

    cycle = losses.L1L2(0.5) if options.cycle_loss == "l1+l2" else options.cycle_loss
    model.compile(
        g_optimizer=optimizer(), d_optimizer=optimizer(), adversarial_loss=options.gan_loss,
        cycle_loss=cycle, cycle_weight=options.cycle_weight,
        identity_weight=options.identity_weight, jit_compile=options.jit_compile,
    )
    # The pools' buffers exist from here on, so a checkpoint can be loaded into them.
    model.build((None, options.image_size, options.image_size, 3))
    return model


def load_data(options):
    """`(train, validation, steps)`: the training and validation pipelines and the number
    of batches that cover the larger training domain once. Every file of a --data-dir is
    checked before training."""
    if options.data_dir:
        print(f"data: {describe_folder(options.data_dir)}")

    def source(domain, split):
        return unpaired_source(options.dataset, domain, split, options.data_dir,
                               options.image_size, tfds_dir=options.tfds_dir,
                               on_bad_image=options.on_bad_image)

    train_a, train_b = source("A", "train"), source("B", "train")
    test_a, test_b = source("A", "test"), source("B", "test")
    print(f"data: {int(train_a.cardinality())} A and {int(train_b.cardinality())} B training "
          f"images, {int(test_a.cardinality())} A and {int(test_b.cardinality())} B test images")
    train = prepare_unpaired(train_a, train_b, options.image_size, options.batch_size,
                             training=True, augment=not options.augment_on_device,
                             seed=options.seed)
    val = prepare_unpaired(test_a, test_b, options.image_size, options.batch_size)
    return train, val, steps_per_epoch(train_a, train_b, options.batch_size)


def main(argv=None):
    """Train CycleGAN from command-line options; returns the exit status."""
    options = parse_args(argv)
    with mixed_precision_policy(options.mixed_precision):
        return train(options)


def train(options):
    """Run the training these options describe (see `main`)."""
    keras.utils.set_random_seed(options.seed)
    train, val, steps = load_data(options)
    steps = options.steps_per_epoch or steps
    common.prepare_run_dir(options)
    with common.distribution_strategy().scope():
        model = build_model(options, steps)
    initial_epoch = common.resume(model, options.out)

    sample_a, sample_b = next(iter(val.unbatch().batch(options.samples)))
    metrics = common.metrics_callbacks(options, val, model.generator_ab, paired=False)
    callbacks = common.training_callbacks(options.out, metrics) + [
        CycleSamples(sample_a, sample_b, os.path.join(options.out, "samples")),
    ]
    model.fit(
        train, epochs=options.epochs, initial_epoch=initial_epoch, steps_per_epoch=steps,
        validation_data=val, callbacks=callbacks,
        verbose=2 if os.environ.get("CI") else "auto",
    )
    generators = [model.generator_ab, model.generator_ba]
    paths = [os.path.join(options.out, f"{name}.keras") for name in ("generator_ab", "generator_ba")]
    for generator, path in zip(generators, paths):
        common.save_model_atomic(generator, path)
    print(f"wrote {options.out}: generator_ab.keras, generator_ba.keras, history.csv, samples/, "
          "checkpoints/")
    if options.export is not None:
        common.export_generators(options.export_base,
                                 list(zip(export_names(options.export), generators, paths)))
    return 0


if __name__ == "__main__":
    raise SystemExit(common.run_cli(main, None))
