"""Train pix2pix: `python -m kgan.recipes.pix2pix [--dataset bluemarble] [options]`.

Defaults are the paper's: 256 px, batch 1, Adam(2e-4, beta1 0.5), lambda 100 with L1,
vanilla GAN loss, 70x70 PatchGAN, U-Net with skips, jitter 286 -> 256 and flips, and
the learning rate held for the first half of the epochs then decayed linearly to zero.
See `kgan.recipes.common` for what the run folder holds. `--export NAME` also writes the
final generator as a SavedModel for TF Serving; `--eval-every N` adds FID, precision/recall
and PSNR/SSIM of the validation pairs to the history.
"""

import argparse
import os

import keras

from kgan import losses
from kgan.callbacks import SampleGrid
from kgan.cli import non_negative_float, positive_int
from kgan.data import DIRECTIONS, paired_source, prepare_pairs
from kgan.data.folders import ON_BAD_IMAGE, describe_folder
from kgan.data.paired import BUILT_IN, DOWNLOADABLE
from kgan.errors import ConfigError
from kgan.models import Pix2Pix
from kgan.models.training import mixed_precision_policy
from kgan.networks import RECEPTIVE_FIELDS, patch_discriminator, unet_generator
from kgan.networks.layers import NORMS
from kgan.recipes import common
from kgan.schedules import ConstantThenLinearDecay


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m kgan.recipes.pix2pix",
        description="Train pix2pix (paired image-to-image translation).",
    )
    data = parser.add_argument_group("data")
    data.add_argument("--dataset", default="bluemarble", choices=BUILT_IN + DOWNLOADABLE,
                      help="named data set (default: bluemarble, built in); the others are "
                      "downloaded once through TFDS (pix2pix/<name>) into --tfds-dir")
    data.add_argument("--data-dir", help="your own folder, used instead of --dataset: "
                      "train/ val/ test/ of A|B images (A left), or A/<split>/ and B/<split>/ "
                      "matched by file name; JPEG or PNG, any size")
    data.add_argument("--tfds-dir", help="TFDS data dir for named sets (default: $TFDS_DATA_DIR "
                      "or ~/tensorflow_datasets); offline, put the archive in "
                      "<tfds-dir>/downloads/manual/")
    data.add_argument("--on-bad-image", default="error", choices=ON_BAD_IMAGE,
                      help="a truncated, non-image or misshapen file in --data-dir: stop "
                      "before training (error, default) or leave it out (skip)")
    data.add_argument("--direction", default="AtoB", choices=DIRECTIONS,
                      help="AtoB: left half -> right half (default); BtoA the reverse")
    data.add_argument("--image-size", type=positive_int, default=256,
                      help="square training size, a power of two >= 32 (default 256)")
    data.add_argument("--augment-on-device", action="store_true",
                      help="jitter/flip at the start of train_step instead of in tf.data")

    model = parser.add_argument_group("model")
    model.add_argument("--base-filters", type=positive_int, default=64,
                       help="filters of the first G and D layers (default 64)")
    model.add_argument("--no-skip", action="store_true",
                       help="U-Net without skip connections (plain encoder-decoder)")
    model.add_argument("--norm", default="batch", choices=NORMS, help="normalisation (batch)")
    model.add_argument("--patch", type=int, default=70, choices=RECEPTIVE_FIELDS,
                       help="discriminator receptive field in pixels (default 70)")

    objective = parser.add_argument_group("objective")
    objective.add_argument("--gan-loss", default="bce", choices=tuple(losses.ADVERSARIAL),
                           help="adversarial loss (default bce)")
    objective.add_argument("--recon-loss", default="l1", choices=tuple(losses.RECONSTRUCTION),
                           help="reconstruction loss (default l1)")
    objective.add_argument("--recon-mix", type=non_negative_float, default=0.5,
                           help="weight of L1 in l1+l2, in [0, 1] (default 0.5)")
    objective.add_argument("--recon-weight", type=non_negative_float, default=100.0,
                           help="lambda, the reconstruction weight (default 100)")

    training = parser.add_argument_group("training")
    training.add_argument("--epochs", type=positive_int, default=200)
    training.add_argument("--decay-epochs", type=int,
                          help="last epochs over which the learning rate decays linearly to "
                          "zero (default: half of --epochs)")
    training.add_argument("--steps-per-epoch", type=positive_int,
                          help="default: one pass over the training set")
    training.add_argument("--batch-size", type=positive_int, default=1)
    training.add_argument("--lr", type=non_negative_float, default=2e-4)
    training.add_argument("--beta1", type=non_negative_float, default=0.5)
    training.add_argument("--seed", type=int, default=0)

    output = parser.add_argument_group("output")
    output.add_argument("--out", help="run folder (default runs/pix2pix_<dataset>); rerunning "
                        "with the same --out resumes")
    output.add_argument("--samples", type=positive_int, default=4,
                        help="test examples in each sample grid (default 4)")
    common.add_export_arguments(output, "the generator to EXPORT_BASE/NAME/VERSION/")
    common.add_eval_arguments(parser, ", PSNR and SSIM of the generator's outputs for "
                              "validation inputs against their targets,")
    common.add_performance_arguments(parser)
    common.add_config_argument(parser)
    return parser


def parse_args(argv=None):
    """Parse command-line options (and `--config`) into a checked namespace."""
    options = common.parse_with_config(build_parser(), argv)
    if options.out is None:
        name = os.path.basename(os.path.normpath(options.data_dir)) if options.data_dir else options.dataset
        options.out = os.path.join("runs", f"pix2pix_{name}")
    if options.decay_epochs is None:
        options.decay_epochs = options.epochs // 2
    if not 0 <= options.decay_epochs <= options.epochs:
        raise ConfigError(f"--decay-epochs must lie in [0, --epochs={options.epochs}], got {options.decay_epochs}")
    if options.recon_mix > 1:
        raise ConfigError(f"--recon-mix must lie in [0, 1], got {options.recon_mix}")
    if options.export is not None:
        common.check_export(options, [options.export])
    common.check_eval(options)
    return options


def build_model(options, steps_per_epoch):
    """The compiled Pix2Pix model these options describe."""
    generator = unet_generator(
        options.image_size, base_filters=options.base_filters,
        skip_connections=not options.no_skip, norm=options.norm,
    )
    discriminator = patch_discriminator(
        options.patch, conditional=True, base_filters=options.base_filters, norm=options.norm,
    )
    model = Pix2Pix(generator, discriminator, augment_on_device=options.augment_on_device,
                    seed=options.seed)

    def optimizer():
        schedule = ConstantThenLinearDecay(
            options.lr, (options.epochs - options.decay_epochs) * steps_per_epoch,
            options.decay_epochs * steps_per_epoch,
        )
        return keras.optimizers.Adam(schedule, beta_1=options.beta1)

    recon = losses.L1L2(options.recon_mix) if options.recon_loss == "l1+l2" else options.recon_loss
    model.compile(
        g_optimizer=optimizer(), d_optimizer=optimizer(), adversarial_loss=options.gan_loss,
        reconstruction_loss=recon, reconstruction_weight=options.recon_weight,
        jit_compile=options.jit_compile,
    )
    return model


def load_data(options):
    """`(train, validation, num_train)`: training and validation pipelines and the
    number of training pairs. Every file of a --data-dir is checked before training."""
    if options.data_dir:
        print(f"data: {describe_folder(options.data_dir)}")

    def source(split):
        return paired_source(options.dataset, split, options.data_dir, options.image_size,
                             tfds_dir=options.tfds_dir, on_bad_image=options.on_bad_image)

    train_source = source("train")
    val_source = source("val")
    num_train = int(train_source.cardinality())
    print(f"data: {num_train} training pairs, {int(val_source.cardinality())} validation pairs")
    train = prepare_pairs(
        train_source, options.image_size, options.batch_size, options.direction,
        training=True, augment=not options.augment_on_device, seed=options.seed,
    )
    val = prepare_pairs(val_source, options.image_size, options.batch_size, options.direction)
    return train, val, num_train


def main(argv=None):
    """Train pix2pix from command-line options; returns the exit status."""
    options = parse_args(argv)
    with mixed_precision_policy(options.mixed_precision):
        return train(options)


def train(options):
    """Run the training these options describe (see `main`)."""
    keras.utils.set_random_seed(options.seed)
    train, val, num_train = load_data(options)
    steps_per_epoch = options.steps_per_epoch or max(num_train // options.batch_size, 1)
    common.prepare_run_dir(options)
    with common.distribution_strategy().scope():
        model = build_model(options, steps_per_epoch)
    initial_epoch = common.resume(model, options.out)

    sample_inputs, sample_targets = next(iter(val.unbatch().batch(options.samples)))
    metrics = common.metrics_callbacks(options, val, model.generator, paired=True)
    callbacks = common.training_callbacks(options.out, metrics) + [
        SampleGrid(sample_inputs, sample_targets, os.path.join(options.out, "samples")),
    ]
    model.fit(
        train, epochs=options.epochs, initial_epoch=initial_epoch,
        steps_per_epoch=steps_per_epoch, validation_data=val, callbacks=callbacks,
        verbose=2 if os.environ.get("CI") else "auto",
    )
    generator_path = os.path.join(options.out, "generator.keras")
    common.save_model_atomic(model.generator, generator_path)
    print(f"wrote {options.out}: generator.keras, history.csv, samples/, checkpoints/")
    if options.export is not None:
        common.export_generators(options.export_base,
                                 [(options.export, model.generator, generator_path)])
    return 0


if __name__ == "__main__":
    raise SystemExit(common.run_cli(main, None))
