"""Plumbing shared by the training recipes: options and config files, the run folder,
resuming, and the command-line error convention.

A run folder (`--out`) holds:
    config.toml         the resolved options (feed it back with --config)
    checkpoints/        the newest epoch checkpoint and state.json (resume)
    history.csv         one row of losses and metrics per epoch
    samples/            epoch_NNN.png sample grids
    generator.keras     the final generator
"""

import argparse
import csv
import os
import sys
import tomllib

import keras

from kgan.callbacks import ResumableCheckpoint, latest_checkpoint
from kgan.errors import ConfigError, KganError

# Options that may change between a run and its resumption.
RESUMABLE_CHANGES = ("epochs", "decay_epochs", "out", "config")


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


def training_callbacks(out):
    """History CSV and resumable checkpoints for a run folder."""
    return [
        keras.callbacks.CSVLogger(os.path.join(out, "history.csv"), append=True),
        ResumableCheckpoint(os.path.join(out, "checkpoints")),
    ]


def save_model_atomic(model, path):
    """`model.save(path)` through a temporary file, so `path` is never half-written."""
    tmp = path[: -len(".keras")] + ".tmp.keras"
    model.save(tmp)
    os.replace(tmp, path)


def run_cli(main, argv):
    """Run `main(argv)`; print kgan errors as one line (exit 2 for options, 1 otherwise)."""
    try:
        return main(argv)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KganError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: rerun the same command to resume from the last epoch", file=sys.stderr)
        return 130


def positive_int(text):
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def non_negative_float(text):
    """argparse type: a float >= 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {value}")
    return value
