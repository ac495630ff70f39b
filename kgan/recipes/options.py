"""The options every recipe shares: their argparse groups (data, model, objective, training,
output, evaluation, performance, `--config`), `--config` TOML files, the reconstruction-loss
options, the checks argparse cannot make, and which options a resumed run may change."""

import argparse
import os

from kgan import losses
from kgan.callbacks.checkpoint import CHECKPOINT_MINUTES, MAX_LOSS
from kgan.cli import (fraction, non_negative_float, non_negative_int, positive_int,
                      random_seed)
from kgan.errors import ConfigError
from kgan.export.signatures import DEFAULT_MAX_PIXELS
from kgan.networks import DOWNSAMPLING, RECEPTIVE_FIELDS, UPSAMPLING
from kgan.networks.layers import MAX_IMAGE_SIZE, MIN_IMAGE_SIZE, NORMS
from kgan.precision import PRECISIONS, default_precision, resolve_precision
from kgan.recipes.data import add_data_arguments
from kgan.recipes.export import check_export
from kgan.run_folder import KEEP_CHECKPOINTS, export_names, load_config

# Options that may change between a run and its resumption. None of them changes the epochs
# already trained, but --epochs and --decay-epochs reshape the learning-rate schedule: it is
# recomputed from the new values, so the remaining epochs train at the rates of the new
# schedule at the optimizer's step count, not at those the first command would have used.
# --precision and --jit-compile change speed and float rounding (the weights stay float32,
# so a run may resume on a machine with another default precision); the others change
# only what is written and evaluated.
# A precision change that would drop the optimizer state (to or from mixed_float16, whose
# optimizers are loss-scaled) is refused when the checkpoint is loaded. The checkpoint options
# and --max-pixels change only what is written; --max-loss only when training stops;
# --restart only applies to a folder without a readable checkpoint.
RESUMABLE_CHANGES = ("epochs", "decay_epochs", "out", "config", "export", "export_base",
                     "eval_every", "eval_images", "log_every", "precision", "jit_compile",
                     "checkpoint_minutes", "checkpoint_steps", "keep_checkpoints",
                     "max_pixels", "max_loss", "restart")

# Improved precision/recall use k = 3 nearest neighbours, so each set needs more than 3 images.
MIN_EVAL_IMAGES = 4


def parse_with_config(parser, argv):
    """Parse `argv`, taking defaults from the TOML file named by `--config` (if any).

    Keys may use dashes or underscores. Unknown keys are a ConfigError naming the key.
    """
    known, _ = parser.parse_known_args(argv)
    if getattr(known, "config", None):
        actions = {a.dest: a for a in parser._actions if a.dest not in ("help", "config")}
        for key, value in load_config(known.config).items():
            action = actions.get(key.replace("-", "_"))
            if action is None:
                raise ConfigError(f"{known.config}: unknown option {key!r}")
            parser.set_defaults(**{action.dest: _config_value(known.config, key, value, action)})
    return parser.parse_args(argv)


def _config_value(path, key, value, action):
    """Check and convert one config-file value the way argparse would treat the flag."""
    if isinstance(action, argparse._StoreTrueAction):
        if not isinstance(value, bool):
            raise ConfigError(f"{path}: {key} must be true or false, got {value!r}")
        return value
    if action.type is not None:
        try:
            value = action.type(str(value))
        except (argparse.ArgumentTypeError, ValueError) as error:
            raise ConfigError(f"{path}: {key}: {error}") from None
    if action.choices is not None and value not in action.choices:
        choices = ", ".join(map(str, action.choices))
        raise ConfigError(f"{path}: {key} must be one of {choices}, got {value!r}")
    return value


def add_reconstruction_arguments(group, prefix, what, weight):
    """`--PREFIX-loss`, `--PREFIX-mix` and `--PREFIX-weight` of a reconstruction term.

    Args:
        group: the argparse group ("objective").
        prefix: "recon", "cycle", ...; `reconstruction_loss(options, prefix)` reads them.
        what: what the loss compares, for the help texts.
        weight: the default weight (the paper's lambda).
    """
    group.add_argument(f"--{prefix}-loss", default="l1", choices=tuple(losses.RECONSTRUCTION),
                       help=f"{what} loss (default l1)")
    group.add_argument(f"--{prefix}-mix", type=fraction, default=0.5,
                       help="weight of L1 in l1+l2, in [0, 1] (default 0.5)")
    group.add_argument(f"--{prefix}-weight", type=non_negative_float, default=weight,
                       help=f"lambda, the weight of the {what} loss (default {weight:g})")


def reconstruction_loss(options, prefix):
    """The loss `--PREFIX-loss` and `--PREFIX-mix` name: "l1", "l2" or an `L1L2`."""
    name = getattr(options, f"{prefix}_loss")
    return losses.L1L2(getattr(options, f"{prefix}_mix")) if name == "l1+l2" else name


def check_eval(options):
    """Raise ConfigError for an --eval-images too small for precision/recall."""
    if options.eval_every and options.eval_images < MIN_EVAL_IMAGES:
        raise ConfigError(f"--eval-images must be at least {MIN_EVAL_IMAGES} (precision/recall "
                          f"use 3 nearest neighbours), got {options.eval_images}")


def build_parser(recipe):
    """The argument parser of `recipe` (a `kgan.recipes.recipe.Recipe`): the shared groups
    with the recipe's own options (`recipe.add_model_arguments`) among them."""
    parser = argparse.ArgumentParser(prog=f"python -m kgan.recipes.{recipe.name}",
                                     description=recipe.description)
    data = add_data_arguments(parser, recipe.data)
    data.add_argument("--image-size", type=positive_int, default=256,
                      help=f"square training size, {recipe.image_sizes} (default 256)")
    model = parser.add_argument_group("model")
    model.add_argument("--base-filters", type=positive_int, default=64,
                       help="filters of the first G and D layers (default 64)")
    model.add_argument("--norm", default=recipe.norm, choices=NORMS,
                       help=f"normalisation ({recipe.norm})")
    model.add_argument("--patch", type=int, default=70, choices=RECEPTIVE_FIELDS,
                       help="discriminator receptive field in pixels (default 70)")
    model.add_argument("--upsample", default=recipe.upsample, choices=UPSAMPLING,
                       help="generator upsampling: transposed conv, nearest resize + conv, "
                       f"or CUT's binomial upsample + conv (default {recipe.upsample})")
    model.add_argument("--downsample", default=recipe.downsample, choices=DOWNSAMPLING,
                       help="G and D downsampling: strided conv, or CUT's stride-1 conv + "
                       f"[1,2,1] blur subsampling (default {recipe.downsample})")
    objective = parser.add_argument_group("objective")
    objective.add_argument("--gan-loss", default=recipe.gan_loss,
                           choices=tuple(losses.ADVERSARIAL),
                           help=f"adversarial loss (default {recipe.gan_loss})")
    recipe.add_model_arguments(model, objective)
    _add_training_arguments(parser, recipe)
    _add_output_arguments(parser, recipe)
    _add_evaluation_arguments(parser, recipe)
    performance = parser.add_argument_group("performance")
    performance.add_argument("--precision", default="auto", choices=("auto",) + PRECISIONS,
                             help="Keras dtype policy: float32 weights, computing in "
                             "float32, bfloat16 or float16 (with loss scaling); default "
                             f"auto: {default_precision()} on this machine (bfloat16 where "
                             "the CPU or GPU computes it natively)")
    performance.add_argument("--jit-compile", action="store_true",
                             help="compile the train step with XLA (always under JAX)")
    parser.add_argument("--config", metavar="FILE.toml",
                        help="TOML file whose keys are these options (image-size = 64); "
                        "flags given on the command line win over the file")
    return parser


def _add_training_arguments(parser, recipe):
    training = parser.add_argument_group("training")
    training.add_argument("--epochs", type=positive_int, default=200)
    training.add_argument("--decay-epochs", type=non_negative_int,
                          help="last epochs over which the learning rate decays linearly "
                          "to zero (default: half of --epochs)")
    training.add_argument("--steps-per-epoch", type=positive_int,
                          help=f"default: {recipe.data.epoch}")
    training.add_argument("--batch-size", type=positive_int, default=1)
    training.add_argument("--lr", type=non_negative_float, default=2e-4)
    training.add_argument("--beta1", type=non_negative_float, default=0.5)
    training.add_argument("--seed", type=random_seed, default=0)
    training.add_argument("--max-loss", type=non_negative_float, default=MAX_LOSS,
                          metavar="X", help="stop (exit 1, nothing saved) when a logged "
                          f"loss's epoch mean passes X in absolute value: the run diverged "
                          f"(default {MAX_LOSS:g}; 0: off, only NaN/Inf stop it)")


def _add_output_arguments(parser, recipe):
    output = parser.add_argument_group("output")
    output.add_argument("--out", help=f"run folder (default runs/{recipe.name}_<dataset>); "
                        "rerunning with the same --out resumes")
    output.add_argument("--samples", type=positive_int, default=4,
                        help=f"{recipe.data.samples} (default 4)")
    where = " and ".join(f"{description} to EXPORT_BASE/NAME{suffix}/VERSION/"
                         for suffix, description in recipe.exports.values())
    output.add_argument("--log-every", type=positive_int, default=50, metavar="N",
                        help="write the losses to the run's logs/ for TensorBoard every N "
                        "steps (default 50); epoch logs, sample grids and the options "
                        "(HParams) go there too")
    output.add_argument("--export", metavar="NAME",
                        help=f"after training, export {where} (VERSION: the next free "
                        "one), as SavedModels for TF Serving like python -m kgan.export; "
                        "NAME: 1-64 letters, digits, '_', '-' or '.'")
    output.add_argument("--export-base", default="savedmodels", metavar="DIR",
                        help="folder of exports for --export (default savedmodels)")
    output.add_argument("--max-pixels", type=positive_int, default=DEFAULT_MAX_PIXELS,
                        metavar="N", help="--export: the largest image (height x width) "
                        f"the export translates (default {DEFAULT_MAX_PIXELS}, 4096x4096)")
    output.add_argument("--checkpoint-minutes", type=non_negative_float,
                        default=CHECKPOINT_MINUTES, metavar="M",
                        help="checkpoint every M minutes as well as after every epoch "
                        f"(default {CHECKPOINT_MINUTES:g}; 0: off): a killed run resumes "
                        "from its last checkpoint, mid-epoch too")
    output.add_argument("--checkpoint-steps", type=non_negative_int, default=0, metavar="N",
                        help="also checkpoint every N steps (default 0: off)")
    output.add_argument("--keep-checkpoints", type=positive_int, default=KEEP_CHECKPOINTS,
                        metavar="K", help=f"checkpoints kept, the newest (default "
                        f"{KEEP_CHECKPOINTS}); an unreadable one is renamed "
                        "broken_step_N and the one before is used")
    output.add_argument("--restart", action="store_true",
                        help="train again from step 0 in a run folder whose checkpoints "
                        "are all unreadable (refused without it; the broken ones are "
                        "kept); a readable checkpoint is always resumed")


def _add_evaluation_arguments(parser, recipe):
    evaluation = parser.add_argument_group("evaluation")
    evaluation.add_argument("--eval-every", type=non_negative_int, default=0, metavar="N",
                            help="every N epochs, write FID, precision and recall"
                            f"{recipe.data.evaluated} into history.csv as val_fid, "
                            "val_precision, ... (default 0: off); the FID Inception "
                            "weights are downloaded (95 MB) and cached on first use; "
                            "offline the run warns and trains on")
    evaluation.add_argument("--eval-images", type=positive_int, default=256, metavar="N",
                            help="held-out images per evaluation (default 256, at least "
                            f"{MIN_EVAL_IMAGES}; fewer when the split has fewer)")


def parse_options(recipe, argv=None):
    """`recipe`'s command-line options (and `--config`), parsed into a checked namespace."""
    options = parse_with_config(recipe.build_parser(), argv)
    if not MIN_IMAGE_SIZE <= options.image_size <= MAX_IMAGE_SIZE:
        raise ConfigError(f"--image-size must lie in [{MIN_IMAGE_SIZE}, {MAX_IMAGE_SIZE}], "
                          f"got {options.image_size}")
    if options.out is None:
        data = options.data_dir and os.path.basename(os.path.normpath(options.data_dir))
        options.out = os.path.join("runs", f"{recipe.name}_{data or options.dataset}")
    if options.decay_epochs is None:
        options.decay_epochs = options.epochs // 2
    if options.decay_epochs > options.epochs:
        raise ConfigError(f"--decay-epochs must lie in [0, --epochs={options.epochs}], "
                          f"got {options.decay_epochs}")
    options.precision = resolve_precision(options.precision)
    recipe.check(options)
    if options.export is not None:
        check_export(options, export_names(options.export, recipe.exports))
    check_eval(options)
    return options
