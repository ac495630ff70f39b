"""The run folder of a training run (`--out`): layout, config, checkpoints, history, resume.

    config.toml         the resolved options (feed it back with --config)
    checkpoints/        the newest epoch's weights (networks and optimizers) and state.json
    history.csv         one row of losses and metrics per epoch
    samples/            epoch_NNN.png sample grids
    logs/               TensorBoard: step and epoch scalars, sample grids, HParams
    generator.keras     the final generator(s): generator.keras, or generator_ab.keras and
                        generator_ba.keras for CycleGAN (see `GENERATORS`)

Every file is written through `kgan.atomic`, so a killed run leaves complete files (and at
most `.tmp-*` leftovers, removed by the next `prepare`); rerunning with the same folder
resumes after the newest checkpoint.
"""

import csv
import json
import os
import tomllib

from kgan.atomic import atomic_path, remove_temporaries, write_text
from kgan.errors import ConfigError

CONFIG = "config.toml"
CHECKPOINTS = "checkpoints"
STATE = "state.json"
HISTORY = "history.csv"
SAMPLES = "samples"
LOGS = "logs"  # TensorBoard event files
EVALUATION = "evaluation.json"  # test-split metrics, written by kgan.sweep.evaluate_run
# The final generators a run folder can hold (model attribute -> the suffix `--export NAME`
# adds to NAME, and what the network does), in the order they are exported.
GENERATORS = {
    "generator": ("", "the generator"),
    "generator_ab": ("", "G (A -> B)"),
    "generator_ba": ("_BtoA", "F (B -> A)"),
}


class RunFolder:
    """The files of one run, below `path`.

    Args:
        path: the run folder (created by `prepare`).
    """

    def __init__(self, path):
        self.path = path

    def join(self, *names):
        return os.path.join(self.path, *names)

    @property
    def checkpoints(self):
        return self.join(CHECKPOINTS)

    @property
    def history(self):
        return self.join(HISTORY)

    @property
    def samples(self):
        return self.join(SAMPLES)

    @property
    def logs(self):
        return self.join(LOGS)

    def prepare(self, options, defaults, resumable):
        """Create the folder, refuse to resume a run made with other options, write config.toml.

        Args:
            options: the parsed options (an argparse namespace).
            defaults: option -> default value; an option missing from an older config.toml
                (one added since) counts as having had its default.
            resumable: the options that may differ from the run being resumed.

        Raises:
            ConfigError: the folder holds a checkpoint of a run made with other options.
        """
        os.makedirs(self.path, exist_ok=True)
        for folder in (self.path, self.checkpoints, self.samples):
            remove_temporaries(folder)
        config_path = self.join(CONFIG)
        if latest_checkpoint(self.checkpoints) and os.path.exists(config_path):
            saved = load_config(config_path)
            for key, value in sorted(vars(options).items()):
                if key in resumable or key == "config":
                    continue
                before = saved.get(key.replace("_", "-"), defaults.get(key))
                if before != value:
                    flag = "--" + key.replace("_", "-")
                    raise ConfigError(
                        f"{self.path} holds a run made with {flag} {_shown(before)}, not "
                        f"{_shown(value)}: rerun with the same options to resume, or pass a "
                        "new --out")
        write_config(options, config_path)

    def resume(self, model):
        """Load the newest checkpoint into `model` and drop history rows written after it.

        Returns:
            int: the epochs already done (0 for a new run).
        """
        checkpoint = latest_checkpoint(self.checkpoints)
        if not checkpoint:
            return 0
        epochs_done, path = checkpoint
        model.load_weights(path)
        truncate_history(self.history, epochs_done)
        print(f"resuming {self.path} after epoch {epochs_done}")
        return epochs_done

    def save_generators(self, model, names):
        """Save `model.<name>` as `<name>.keras` for each name; returns the paths."""
        paths = []
        for name in names:
            path = self.join(f"{name}.keras")
            with atomic_path(path) as tmp:
                getattr(model, name).save(tmp)
            paths.append(path)
        return paths

    def saved_generators(self):
        """`(export suffix, path)` of each final generator in the folder, in export order."""
        return [(suffix, self.join(f"{name}.keras")) for name, (suffix, _) in GENERATORS.items()
                if os.path.isfile(self.join(f"{name}.keras"))]


def _shown(value):
    return "unset" if value is None else value


def export_names(name, generators):
    """The model names `--export NAME` gives `generators` (e.g. NAME and NAME_BtoA)."""
    return [name + GENERATORS[generator][0] for generator in generators]


def save_checkpoint(model, directory, epochs_done):
    """Save `model`'s weights as `epoch_NNN.weights.h5`, point state.json at it, and delete
    the checkpoint before it; state.json only ever names a complete file."""
    name = f"epoch_{epochs_done:03d}.weights.h5"
    previous = latest_checkpoint(directory)
    with atomic_path(os.path.join(directory, name)) as tmp:
        model.save_weights(tmp)
    write_text(os.path.join(directory, STATE), json.dumps({"epoch": epochs_done, "weights": name}))
    if previous and os.path.basename(previous[1]) != name:
        os.remove(previous[1])


def latest_checkpoint(directory):
    """`(epochs_done, weights_path)` of the newest complete checkpoint in `directory`, or None."""
    state_path = os.path.join(directory, STATE)
    if not os.path.exists(state_path):
        return None
    with open(state_path) as f:
        state = json.load(f)
    path = os.path.join(directory, state["weights"])
    return (int(state["epoch"]), path) if os.path.exists(path) else None


def read_history(path):
    """The rows of a history CSV as lists of strings (header first); [] when absent."""
    if not os.path.exists(path):
        return []
    with open(path, newline="") as f:
        return [row for row in csv.reader(f) if row]


def write_history(path, columns, rows):
    """Write a history CSV with `columns` ("epoch" first); `rows` are dicts, missing keys "NA"."""
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, columns, restval="NA")
        writer.writeheader()
        writer.writerows(rows)


def truncate_history(path, epochs_done):
    """Drop the rows of epochs after the checkpoint (written before a crash) from history.csv."""
    rows = read_history(path)
    if rows:
        kept = [dict(zip(rows[0], row)) for row in rows[1:] if int(row[0]) < epochs_done]
        write_history(path, rows[0], kept)


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
    """Write the resolved options as flat TOML (None values and `config` are left out)."""
    lines = [
        f"{key.replace('_', '-')} = {_toml_value(value)}"
        for key, value in sorted(vars(options).items())
        if value is not None and key != "config"
    ]
    write_text(path, "\n".join(lines) + "\n")
