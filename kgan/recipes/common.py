"""What every recipe shares apart from the `Recipe` skeleton: config files, the optimizer and
its schedule, the reconstruction options, export, evaluation, devices and error reporting.

The run folder itself (config.toml, checkpoints, history, final generators) is
`kgan.run_folder`. With `--export NAME` the final generators are also written as SavedModels
for TF Serving to `--export-base`/NAME/VERSION/ (the next free version), as
`python -m kgan.export` does.
"""

import argparse
import contextlib
import json
import os
import sys
import tempfile

import keras
import tensorflow as tf

from kgan import losses
from kgan.callbacks import FiniteLossGuard, HistoryCSV, ImageMetricsCallback, ResumableCheckpoint
from kgan.cli import fraction, non_negative_float, run_reporting_errors
from kgan.errors import ConfigError, KganError
from kgan.export import export_generator, validate_name
from kgan.metrics.inception import inception_feature_extractor
from kgan.models.fused_adam import FusedAdam
from kgan.run_folder import config_values, load_config
from kgan.schedules import ConstantThenLinearDecay

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
EVAL_BATCH_SIZE = 32


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


def optimizer(options, steps_per_epoch):
    """Adam(`--lr`, `--beta1`) whose rate is held for `--epochs` - `--decay-epochs` epochs,
    then decays linearly to zero; one for each of a GAN's optimizers."""
    schedule = ConstantThenLinearDecay(
        options.lr, (options.epochs - options.decay_epochs) * steps_per_epoch,
        options.decay_epochs * steps_per_epoch,
    )
    return FusedAdam(schedule, beta_1=options.beta1)


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


def check_export(options, names):
    """Raise ConfigError, before any training, if the `--export` model names cannot be written.

    Args:
        options: parsed options with `export_base`.
        names: the model names the run will export (e.g. NAME and NAME_BtoA).
    """
    for name in names:
        try:
            validate_name(name)
        except KganError as error:
            raise ConfigError(f"--export: {error}") from None
        # The folder, or its nearest existing parent, must be a folder we can write to.
        existing = os.path.abspath(os.path.join(options.export_base, name))
        while not os.path.exists(existing):
            existing = os.path.dirname(existing)
        if not os.path.isdir(existing):
            raise ConfigError(f"--export: {existing} is a file, not a folder")
        if not os.access(existing, os.W_OK | os.X_OK):
            raise ConfigError(f"--export: cannot write into {existing}")


def export_generators(base_dir, exports, max_pixels=None, folder=None, step=None):
    """Export each generator as the next version of its name under `base_dir`; print the paths.

    Args:
        base_dir: the `--export-base` folder.
        exports: (name, generator, keras_path) triples; `keras_path` is where the run saved
            the generator, named in the error so that it can be exported by hand.
        max_pixels: the largest image the export translates (default: the signatures').
        folder, step: the run folder and its step count: a name it exported at that step
            already (a finished run rerun) is not exported again.

    Returns:
        list of str: the version folders written.

    Raises:
        KganError: an export failed (one line, with the `python -m kgan.export` command).
    """
    paths = []
    for name, generator, keras_path in exports:
        previous = folder and folder.previous_export(name, base_dir, step)
        if previous:
            print(f"already exported {previous}")
            paths.append(previous)
            continue
        try:
            path = export_generator(generator, base_dir, name, max_pixels=max_pixels)
        except (KganError, OSError) as error:
            raise KganError(
                f"export of {name} failed: {error}; the trained generator is saved, export it "
                f"with python -m kgan.export --checkpoint {keras_path} --name {name} "
                f"--export-base {base_dir}"
            ) from None
        print(f"exported {path}")
        if folder is not None:
            folder.record_export(name, base_dir, step, path)
        paths.append(path)
    return paths


def check_eval(options):
    """Raise ConfigError for an --eval-images too small for precision/recall."""
    if options.eval_every and options.eval_images < MIN_EVAL_IMAGES:
        raise ConfigError(f"--eval-images must be at least {MIN_EVAL_IMAGES} (precision/recall "
                          f"use 3 nearest neighbours), got {options.eval_images}")


def metrics_callbacks(options, dataset, generator, paired):
    """The `--eval-every` callback as a list: empty when off or when it cannot run.

    Without the FID Inception weights, or with a held-out split too small, this prints one
    warning line and the run trains without evaluation rather than failing.

    Args:
        options: parsed options with `eval_every` and `eval_images`.
        dataset: the held-out (inputs, targets) batches, in a fixed order.
        generator: the network to evaluate.
        paired: the targets are the inputs' ground truth (adds PSNR/SSIM).

    Returns:
        list: `[ImageMetricsCallback]` or `[]`.
    """
    if not options.eval_every:
        return []
    images = dataset.unbatch().take(options.eval_images)
    count = int(images.reduce(0, lambda n, _: n + 1))
    if count < MIN_EVAL_IMAGES:
        print(f"warning: training without --eval-every: the held-out split has {count} images, "
              f"precision/recall need at least {MIN_EVAL_IMAGES}", file=sys.stderr)
        return []
    try:
        # Loaded now, not at the first evaluation, so missing weights show before training.
        extractor = inception_feature_extractor("fid")  # float32 features, whatever the training
    except KganError as error:
        print(f"warning: training without --eval-every: {error}", file=sys.stderr)
        return []
    print(f"eval: {count} held-out images every {options.eval_every} epoch(s) "
          "(float32 features, inference protocol)")
    return [ImageMetricsCallback(images.batch(EVAL_BATCH_SIZE), options.eval_every,
                                 feature_extractor=extractor, generator=generator,
                                 paired=paired)]


def run_folder_callbacks(folder, metrics, options, steps_per_epoch, initial_step=0,
                         epoch_means=None, writers=()):
    """The divergence guard, then the `metrics` callbacks, the history CSV, the `writers`
    and the checkpoints of a `RunFolder`. Keras calls callbacks in order: the guard stops a
    diverged step before anything is written, the history rows and checkpoints see the
    metrics' keys, and an epoch's checkpoint comes after all it writes (its row, the
    writers' sample grids), so that a run killed before them redoes them.

    Args:
        options: parsed options with `--max-loss` and the `--checkpoint-*` and
            `--keep-checkpoints` values.
        steps_per_epoch, initial_step: the run's full epoch and the steps done before.
        epoch_means: the resumed checkpoint's running loss means (`Checkpoint.epoch_means`).
        writers: callbacks writing each epoch's files (sample grids, TensorBoard logs).
    """
    extra_keys = [key for callback in metrics for key in callback.log_keys]
    return [
        FiniteLossGuard(steps_per_epoch, initial_step, max_loss=options.max_loss),
        *metrics,
        HistoryCSV(folder.history, extra_keys=extra_keys),
        *writers,
        ResumableCheckpoint(folder.checkpoints, steps_per_epoch, initial_step,
                            every_steps=options.checkpoint_steps,
                            every_minutes=options.checkpoint_minutes,
                            keep=options.keep_checkpoints, epoch_means=epoch_means,
                            options=config_values(options)),
    ]


def training_devices():
    """Names of the GPUs visible to TensorFlow (none on a CPU-only machine)."""
    return [device.name for device in tf.config.list_logical_devices("GPU")]


def cluster_workers():
    """The workers (and chief) that `TF_CONFIG` names, 0 without TF_CONFIG.

    Raises:
        ConfigError: TF_CONFIG is not JSON of the form {"cluster": {"worker": [...], ...},
            "task": {...}}.
    """
    text = os.environ.get("TF_CONFIG") or "{}"
    form = ('{"cluster": {"worker": ["host:port", ...]}, "task": {"type": "worker", '
            '"index": 0}}')
    try:
        config = json.loads(text)
    except ValueError as error:
        raise ConfigError(f"TF_CONFIG is not valid JSON ({error}): set it to {form}, or unset "
                          "it to train in one process") from None
    spec = config.get("cluster", {}) if isinstance(config, dict) else None
    if not isinstance(spec, dict) or not all(
            isinstance(spec.get(kind, []), list) for kind in ("chief", "worker")):
        raise ConfigError(f"TF_CONFIG {text[:80]!r} is not of the form {form}: fix it, or unset "
                          "it to train in one process")
    return sum(len(spec.get(kind, ())) for kind in ("chief", "worker"))


def distribution_strategy():
    """The strategy a recipe trains under.

    MultiWorkerMirroredStrategy when `TF_CONFIG` names a cluster of several workers (each
    worker runs the same command; every GPU of every worker, or its CPU, holds a replica);
    else MirroredStrategy over all GPUs when there are several; else the default strategy.
    Call it before anything else runs TensorFlow operations: a multi-worker strategy must
    configure TensorFlow's runtime first. Build and compile the model under
    `strategy.scope()`; `--batch-size` stays the global batch, split evenly over the
    replicas, so it must be a multiple of their number.
    """
    workers = cluster_workers()
    if workers > 1:
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
        print(f"training on {workers} workers, {strategy.num_replicas_in_sync} replicas "
              "(MultiWorkerMirroredStrategy); --batch-size is the global batch")
        return strategy
    devices = training_devices()
    if len(devices) < 2:
        return tf.distribute.get_strategy()
    print(f"training on {len(devices)} devices (MirroredStrategy); --batch-size is the global batch")
    return tf.distribute.MirroredStrategy(devices)


def shard_by_batch(dataset):
    """`dataset` with each global batch split over the workers of a multi-worker run.

    tf.data's default (AUTO) would give each worker its own files, so that the batches, and
    the training, would depend on the worker count; split batch by batch, every worker runs
    the same seeded pipeline and the run trains as one process would on the global batch.
    """
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def check_batch_size(options, strategy):
    """Raise ConfigError for a --batch-size the replicas cannot split evenly."""
    replicas = strategy.num_replicas_in_sync
    if options.batch_size % replicas:
        raise ConfigError(f"--batch-size {options.batch_size} is the global batch: it must be a "
                          f"multiple of the {replicas} replicas")


def is_chief(strategy):
    """Whether this process writes the run's files: always, except on the workers of a
    multi-worker run other than the chief (task "chief", or worker 0 without one)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or resolver.task_type is None:
        return True
    if resolver.task_type == "chief":
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return resolver.task_type == "worker" and resolver.task_id == 0 and not has_chief


@contextlib.contextmanager
def writable_folder(path, chief):
    """Yield where this worker writes what would go to `path`: `path` itself on the chief,
    a temporary folder, deleted afterwards, on the other workers.

    The other workers still write (checkpoints, saved models) so that they take part in the
    collective operations saving may involve, as Keras' multi-worker guide prescribes; their
    files are thrown away.
    """
    if chief:
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="kgan_worker_") as folder:
        yield os.path.join(folder, os.path.basename(os.path.normpath(path)) or "run")


def resume(folder, run, model, checkpoint, steps_per_epoch):
    """Load the run's `checkpoint` (`run.latest_checkpoint()`) into `model`; returns the
    optimizer steps already done.

    Args:
        folder: the `RunFolder` this worker writes.
        run: the run's `RunFolder` (`--out`); when it is not `folder` (a worker other than
            the chief), its checkpoint is read without writing anything there.
    """
    return run.resume(model, checkpoint, steps_per_epoch, write=folder.path == run.path)


def run_cli(main, argv):
    """Run `main(argv)`; print kgan errors as one line (exit 2 for options, 1 otherwise, 130
    after Ctrl-C, 143 after SIGTERM)."""
    return run_reporting_errors(
        main, argv, interrupted="rerun the same command to resume from the last checkpoint")
