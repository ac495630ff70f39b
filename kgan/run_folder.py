"""The run folder of a training run (`--out`): layout, config, checkpoints, history, resume.

    config.toml         the options that shape the run (feed it back with --config)
    checkpoints/        step_NNNNNNNNN/ folders, the newest `--keep-checkpoints` (3): each holds
                        model.weights.h5 (networks, optimizers, image pools) and state.json
                        (the step, steps per epoch, the random-seed states, the options);
                        state.json beside them names the newest; an unreadable one is renamed
                        broken_step_NNNNNNNNN (kept, never rotated away)
    history.csv         one row of losses and metrics per epoch
    samples/            epoch_NNN.png sample grids
    logs/               TensorBoard: step and epoch scalars, sample grids, HParams
    exports.json        the SavedModel versions `--export` wrote, so a rerun does not repeat them
    generator.keras     the final generator(s): generator.keras, or generator_ab.keras and
                        generator_ba.keras for CycleGAN (see `GENERATORS`)

Every file is written through `kgan.atomic`, so a killed run leaves complete files (and at
most `.tmp-*` leftovers, removed by the next `prepare`). A checkpoint holds everything that
decides the next step, the data position being its step (the training pipelines are seeded
and start at any batch), so rerunning the same command continues where the newest
checkpoint stopped, and ends with the weights of a run that was never interrupted. While a process trains in the
folder it holds the folder's lock (`kgan.folder_lock`): a second command is refused.
"""

import csv
import json
import os
import shutil
import sys
import tomllib
import typing
import warnings

import h5py
import keras
import numpy as np

from kgan.atomic import (atomic_path, ensure_free_space, remove_temporaries,
                         variables_nbytes, write_text)
from kgan.errors import ConfigError, KganError
from kgan.folder_lock import FolderLock

CONFIG = "config.toml"
CHECKPOINTS = "checkpoints"
STATE = "state.json"
WEIGHTS = "model.weights.h5"
HISTORY = "history.csv"
SAMPLES = "samples"
LOGS = "logs"  # TensorBoard event files
EXPORTS = "exports.json"
EVALUATION = "evaluation.json"  # test-split metrics, written by kgan.sweep.evaluate_run
CHECKPOINT_PREFIX = "step_"
BROKEN_PREFIX = "broken_"  # an unreadable checkpoint, moved aside: broken_step_NNNNNNNNN
# Options config.toml does not record: --config itself, and --restart, which must be asked
# for on the command line each time (a config.toml fed back must not restart a run).
NOT_RECORDED = ("config", "restart")
KEEP_CHECKPOINTS = 3
# The final generators a run folder can hold (model attribute -> the suffix `--export NAME`
# adds to NAME, and what the network does), in the order they are exported.
GENERATORS = {
    "generator": ("", "the generator"),
    "generator_ab": ("", "G (A -> B)"),
    "generator_ba": ("_BtoA", "F (B -> A)"),
}


class DivergedError(KganError):
    """Training diverged: a loss exploded (`--max-loss`), or a loss or weight is NaN or Inf."""


class NonFiniteError(DivergedError):
    """Training diverged: a loss or a weight is NaN or infinite."""


class Checkpoint(typing.NamedTuple):
    """A complete checkpoint: `step` optimizer steps done (None: an epoch-end checkpoint of
    an older kgan, `epoch` epochs done), its weights file and its random-seed states."""

    step: typing.Optional[int]
    epoch: int
    weights: str
    steps_per_epoch: typing.Optional[int] = None
    seeds: tuple = ()
    epoch_means: dict = {}


class RunFolder:
    """The files of one run, below `path`.

    Args:
        path: the run folder (created by `record`).
    """

    def __init__(self, path):
        self.path = path
        self.created = False
        self.lock = FolderLock(path)

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
        """Refuse to resume a run made with other options; clean up killed writes.

        Writes nothing but removes `.tmp-*` leftovers: `record` writes config.toml once the
        run is known to start, so a refused rerun leaves the folder as it was. An existing
        folder is locked first (`release` unlocks it); a new one when `record` creates it.
        Without config.toml (deleted by hand) the options are compared with those the newest
        checkpoint recorded.

        Args:
            options: the parsed options (an argparse namespace).
            defaults: option -> default value; an option missing from config.toml (left
                unset, or added to kgan since) counts as having had its default.
            resumable: the options that may differ from the run being resumed.

        Raises:
            ConfigError: `path` is a file, or the folder holds a checkpoint of a run made
                with other options, or one whose options are unknown (no config.toml, and
                checkpoints of an older kgan that did not record them).
            FolderInUseError: another process trains in the folder.
        """
        if os.path.exists(self.path) and not os.path.isdir(self.path):
            raise ConfigError(f"--out {self.path} is a file, not a folder: pass a folder")
        self.created = not os.path.exists(self.path)
        self.lock.acquire()
        for folder in (self.path, self.checkpoints, self.samples):
            remove_temporaries(folder)
        if not self.has_checkpoint():
            return
        saved = self._saved_options()
        for key, value in sorted(vars(options).items()):
            if key in resumable or key in NOT_RECORDED:
                continue
            before = saved.get(key.replace("_", "-"), defaults.get(key))
            if before != value:
                flag = "--" + key.replace("_", "-")
                raise ConfigError(
                    f"{self.path} holds a run made with {flag} {_shown(before)}, not "
                    f"{_shown(value)}: rerun with the same options to resume, or pass a new --out")

    def _saved_options(self):
        """The options of the run in the folder: config.toml, else the newest checkpoint's."""
        if os.path.exists(self.join(CONFIG)):
            return load_config(self.join(CONFIG))
        for _, _, state_path in _candidates(self.checkpoints):
            options = state_path and _read_json(state_path).get("options")
            if isinstance(options, dict):
                print(f"warning: {self.join(CONFIG)} is missing: comparing with the options "
                      "its newest checkpoint recorded", file=sys.stderr)
                return options
        raise ConfigError(
            f"config.toml missing: {self.path} holds checkpoints but not the options they were "
            f"trained with, so this command cannot be checked against them; put its "
            f"config.toml back (or write one with the run's options), or pass a new --out")

    def record(self, options):
        """Create and lock the folder, write config.toml (every option, unset ones as
        comments).

        Raises:
            FolderInUseError: another process created the folder and trains in it.
        """
        os.makedirs(self.path, exist_ok=True)
        self.lock.acquire()
        write_config(options, self.join(CONFIG))

    def discard(self):
        """Remove the folder if this run created it and wrote no checkpoint (a failed start).

        A folder this process does not hold the lock of (another run's) is never removed.
        """
        if self.created and self.lock.held and not self.has_checkpoint():
            shutil.rmtree(self.path, ignore_errors=True)

    def release(self):
        """Unlock the folder (at the end of the run; the kernel does it when a process dies)."""
        self.lock.release()

    def has_checkpoint(self):
        return bool(_candidates(self.checkpoints))

    def latest_checkpoint(self, move_aside=False, restart=False):
        """The newest readable `Checkpoint` (None for a new run); an unreadable one is skipped
        with a warning for the one before it.

        Args:
            move_aside: rename an unreadable one to `broken_step_N` (the process that writes
                the folder; the rotation then never counts it, and nothing deletes it).
            restart: when the folder holds checkpoints and none is readable, return None
                (train from step 0) instead of refusing (`--restart`).

        Raises:
            ConfigError: no checkpoint is readable but some were written (unreadable ones,
                or ones moved aside before) and `restart` is False: the run would otherwise
                start over its own progress.
        """
        checkpoint = latest_checkpoint(self.checkpoints, move_aside)
        broken = broken_checkpoints(self.checkpoints)
        if checkpoint is None and (broken or self.has_checkpoint()) and not restart:
            shown = ", ".join(broken) or "its checkpoints"
            raise ConfigError(
                f"{self.path} holds no readable checkpoint ({shown} in {self.checkpoints} "
                f"cannot be read): not starting over its progress; pass --restart to train "
                f"again from step 0 in it (history.csv is rewritten, the broken checkpoints "
                f"are kept), or move the folder away")
        return checkpoint

    def resume(self, model, checkpoint, steps_per_epoch, write=True):
        """Load `checkpoint` into `model` and drop history rows written after it.

        Args:
            model: the compiled, built model.
            checkpoint: from `latest_checkpoint`, or None for a new run.
            steps_per_epoch: this run's; a checkpoint made with others is refused.
            write: truncate history.csv (False on a worker that only reads the folder).

        Returns:
            int: the optimizer steps already done (0 for a new run).

        Raises:
            ConfigError: the checkpoint does not fit the model (its optimizer state would be
                dropped) or the data gives another number of steps per epoch.
        """
        if checkpoint is None:
            if write:
                truncate_history(self.history, 0)
            return 0
        if checkpoint.steps_per_epoch not in (None, steps_per_epoch):
            raise ConfigError(
                f"{self.path} was trained with {checkpoint.steps_per_epoch} steps per epoch, "
                f"its data now gives {steps_per_epoch}: the training data changed; restore it, "
                f"pass --steps-per-epoch {checkpoint.steps_per_epoch}, or a new --out")
        load_checkpoint(model, checkpoint)
        step = checkpoint.epoch * steps_per_epoch if checkpoint.step is None else checkpoint.step
        if write:
            truncate_history(self.history, step // steps_per_epoch)
        print(f"resuming {self.path} at step {step} (epoch {step // steps_per_epoch + 1}, "
              f"batch {step % steps_per_epoch})")
        return step

    def save_generators(self, model, names):
        """Save `model.<name>` as `<name>.keras` for each name; returns the paths.

        Raises:
            NonFiniteError: a generator has a NaN or infinite weight (nothing is written).
            OSError: the disk has too little space for them (ENOSPC; nothing is written).
        """
        for name in names:
            check_finite(getattr(model, name), f"the final {name}")
        ensure_free_space(self.path, _saved_bytes(
            [v for name in names for v in getattr(model, name).weights]))
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

    def previous_export(self, name, base_dir, step):
        """The version folder `--export` wrote for `name` under `base_dir` after `step`
        steps, if it is still there; None otherwise."""
        entry = _read_json(self.join(EXPORTS)).get(name, {})
        path = entry.get("path")
        same = entry.get("base") == os.path.abspath(base_dir) and entry.get("step") == step
        return path if same and path and os.path.isdir(path) else None

    def record_export(self, name, base_dir, step, path):
        """Remember that `name` was exported to `path` after `step` steps."""
        exports = _read_json(self.join(EXPORTS))
        exports[name] = {"base": os.path.abspath(base_dir), "step": step,
                         "path": os.path.abspath(path)}
        write_text(self.join(EXPORTS), json.dumps(exports, indent=1, sort_keys=True))


def _shown(value):
    return "unset" if value is None else value


def _read_json(path):
    try:
        with open(path) as f:
            value = json.load(f)
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def export_names(name, generators):
    """The model names `--export NAME` gives `generators` (e.g. NAME and NAME_BtoA)."""
    return [name + GENERATORS[generator][0] for generator in generators]


def check_finite(model, what):
    """Raise NonFiniteError naming the first NaN or infinite weight of `model`, trained or
    not (a batch norm's moving variance overflows too when a run diverges)."""
    for variable in model.weights:
        if not np.all(np.isfinite(np.asarray(variable))):
            raise NonFiniteError(f"{what} has non-finite weights ({variable.path}): training "
                                 "diverged; nothing was saved")


def seed_states(model):
    """The state variables of the model's `keras.random.SeedGenerator`s (dropout, the
    model's own): `model.variables` holds them, `model.weights` (what is saved) does not."""
    saved = {id(variable) for variable in model.weights}
    return [variable for variable in model.variables if id(variable) not in saved]


def _saved_bytes(variables):
    """An upper bound on the bytes a file of `variables` takes: their values, a few KiB of
    HDF5 (or .keras) headers each, and 1 MiB for the rest."""
    return variables_nbytes(variables) + 8192 * len(variables) + 2**20


def epoch_means(model):
    """`{log key: [total, count]}` of the model's `keras.metrics.Mean` trackers: the running
    means of the epoch so far, which `model.save_weights` does not save."""
    return {metric.name: [float(np.asarray(v)) for v in metric.variables]
            for metric in model.metrics if isinstance(metric, keras.metrics.Mean)}


def restore_epoch_means(model, means):
    """Set the model's Mean trackers to `means` (from `epoch_means`); others are left alone.

    Under a distribution strategy the sums are spread over the replicas (TensorFlow divides a
    cross-replica assignment of a summed variable among them), so their means stay the same.
    """
    for metric in model.metrics:
        if isinstance(metric, keras.metrics.Mean) and metric.name in means:
            for variable, value in zip(metric.variables, means[metric.name], strict=True):
                variable.assign(value)


def save_checkpoint(model, directory, step, steps_per_epoch, keep=KEEP_CHECKPOINTS,
                    options=None):
    """Save the model's state after `step` optimizer steps as `step_NNNNNNNNN/`.

    The folder (weights of networks, optimizers and image pools; state.json with the step,
    the seed states, `options` (what config.toml holds, `config_values`) and, part-way
    through an epoch, the epoch's running loss means) appears complete or not at all; then
    `directory/state.json` names it and all but the newest `keep` checkpoints are deleted
    (those moved aside as broken_step_N are not counted, nor deleted).

    Raises:
        NonFiniteError: a weight is NaN or infinite; the older checkpoints are kept.
        OSError: the disk has too little space for it (ENOSPC); the older ones are kept.
    """
    check_finite(model, f"the model at step {step}")
    name = f"{CHECKPOINT_PREFIX}{step:09d}"
    final = os.path.join(directory, name)
    if not os.path.isdir(final):
        optimizers = [getattr(model, name, None) for name in ("g_optimizer", "d_optimizer")]
        ensure_free_space(directory, _saved_bytes(
            [*model.weights, *(v for o in optimizers if o is not None for v in o.variables)]))
        state = {"step": step, "epoch": step // steps_per_epoch,
                 "steps_per_epoch": steps_per_epoch,
                 "seeds": [np.asarray(v).tolist() for v in seed_states(model)]}
        if step % steps_per_epoch:  # at an epoch's end the trackers hold validation's
            state["epoch_means"] = epoch_means(model)
        if options is not None:
            state["options"] = options
        with atomic_path(final) as tmp:
            os.mkdir(tmp)
            model.save_weights(os.path.join(tmp, WEIGHTS))
            write_text(os.path.join(tmp, STATE), json.dumps(state))
    write_text(os.path.join(directory, STATE),
               json.dumps({"step": step, "epoch": step // steps_per_epoch, "checkpoint": name}))
    for old in _candidates(directory)[max(keep, 1):]:
        path = os.path.dirname(old[1]) if old[0] is not None else old[1]
        shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)


def _candidates(directory):
    """`(step or None, weights path, state path or None)` of the checkpoints in `directory`,
    newest first; an epoch-end file of an older kgan (named by state.json) comes last."""
    if not os.path.isdir(directory):
        return []
    found = []
    for entry in os.listdir(directory):
        if entry.startswith(CHECKPOINT_PREFIX) and entry[len(CHECKPOINT_PREFIX):].isdigit():
            folder = os.path.join(directory, entry)
            found.append((int(entry[len(CHECKPOINT_PREFIX):]), os.path.join(folder, WEIGHTS),
                          os.path.join(folder, STATE)))
    found.sort(reverse=True)
    legacy = _read_json(os.path.join(directory, STATE))
    if "weights" in legacy and os.path.isfile(os.path.join(directory, str(legacy["weights"]))):
        found.append((None, os.path.join(directory, str(legacy["weights"])), None))
    return found


def _read_checkpoint(step, weights, state_path, legacy_epoch):
    """The `Checkpoint` of one candidate; raises (OSError, ValueError, KeyError...) if broken."""
    with h5py.File(weights, "r") as f:
        # Reads every array: a truncated or corrupt file fails here, not half-way through
        # loading it into the model.
        f.visititems(lambda _, obj: obj[()] if isinstance(obj, h5py.Dataset) else None)
    if state_path is None:
        return Checkpoint(None, int(legacy_epoch), weights)
    with open(state_path) as f:
        state = json.load(f)
    if int(state["step"]) != step:
        raise ValueError(f"state.json names step {state['step']}")
    means = {str(key): [float(total), float(count)]
             for key, (total, count) in state.get("epoch_means", {}).items()}
    return Checkpoint(step, int(state["epoch"]), weights, int(state["steps_per_epoch"]),
                      tuple(np.asarray(seed) for seed in state["seeds"]), means)


def latest_checkpoint(directory, move_aside=False):
    """The newest readable `Checkpoint` in `directory`, or None.

    A checkpoint that cannot be read (a corrupt or truncated file, a damaged state.json) is
    skipped with a warning on stderr, and the one before it is tried. With `move_aside` it is
    renamed `broken_<name>` first, so that it is no longer a candidate nor counted by the
    rotation, and is kept for inspection.
    """
    legacy_epoch = _read_json(os.path.join(directory, STATE)).get("epoch", 0)
    for step, weights, state in _candidates(directory):
        try:
            return _read_checkpoint(step, weights, state, legacy_epoch)
        except Exception as error:  # noqa: BLE001 - h5py, json and OS errors alike
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            path = os.path.dirname(weights) if state else weights
            moved = f", moved to {_move_aside(path)}" if move_aside else ""
            print(f"warning: skipping the unreadable checkpoint {path} ({reason}){moved}; "
                  "trying the one before it", file=sys.stderr)
    return None


def _move_aside(path):
    """Rename a checkpoint `path` to a free `broken_<name>[.N]` beside it; returns the name."""
    directory, name = os.path.split(path)
    target, n = os.path.join(directory, BROKEN_PREFIX + name), 0
    while os.path.lexists(target):
        n += 1
        target = os.path.join(directory, f"{BROKEN_PREFIX}{name}.{n}")
    os.rename(path, target)
    return os.path.basename(target)


def broken_checkpoints(directory):
    """The names of the checkpoints moved aside as unreadable in `directory`, sorted."""
    if not os.path.isdir(directory):
        return []
    return sorted(entry for entry in os.listdir(directory) if entry.startswith(BROKEN_PREFIX))


def load_checkpoint(model, checkpoint):
    """Load a `Checkpoint` into `model`, seeds included; ConfigError if it does not fit."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model.load_weights(checkpoint.weights)
        except ValueError as error:
            caught.append(warnings.WarningMessage(str(error), UserWarning, "", 0))
    dropped = [str(w.message) for w in caught
               if "Skipping variable loading" in str(w.message)
               or "could not be loaded" in str(w.message)]
    if dropped:
        raise ConfigError(
            f"the checkpoint {checkpoint.weights} does not fit this model: its optimizer state "
            f"or weights would be dropped ({dropped[0].splitlines()[0][:120]}): it was "
            "trained with other model options, or with a --precision change to or from "
            "mixed_float16 (which wraps the optimizers for loss scaling); rerun with the run's "
            "options, or pass a new --out")
    states = seed_states(model)
    if len(checkpoint.seeds) == len(states):
        for variable, value in zip(states, checkpoint.seeds):
            variable.assign(np.asarray(value, dtype=variable.dtype))


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
        kept = [dict(zip(rows[0], row)) for row in rows[1:] if _epoch(row) < epochs_done]
        write_history(path, rows[0], kept)


def _epoch(row):
    try:
        return int(row[0])
    except ValueError:
        return sys.maxsize  # a damaged row is dropped


def load_config(path):
    """Read a flat TOML file into a dict, with one-line errors."""
    if os.path.isdir(path):
        raise ConfigError(f"config file {path} is a folder: pass a .toml file")
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"config file {path} is not valid TOML: {error}") from None
    except OSError as error:
        raise ConfigError(f"cannot read config file {path}: {error.strerror}") from None


def _toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def config_values(options):
    """The options config.toml records, as `{"image-size": 256, "data-dir": None, ...}`
    (`NOT_RECORDED` left out); checkpoints record them too."""
    return {key.replace("_", "-"): value for key, value in sorted(vars(options).items())
            if key not in NOT_RECORDED}


def write_config(options, path):
    """Write the options as flat TOML; an unset (None) option is a comment saying so, so the
    file records every option while staying a valid `--config` (`NOT_RECORDED` left out)."""
    lines = [f"{key} = {_toml_value(value)}" if value is not None else f"# {key}: unset"
             for key, value in config_values(options).items()]
    write_text(path, "\n".join(lines) + "\n")
