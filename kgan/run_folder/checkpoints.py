"""The checkpoints of a run folder: `step_NNNNNNNNN/` folders that hold everything that decides
the next training step, written atomically, read back with their damage detected, and moved
aside (`broken_step_NNNNNNNNN`) when unreadable; `kgan.run_folder` lays them out in the run.
"""

import json
import os
import shutil
import sys
import typing
import warnings

import h5py
import keras
import numpy as np

from kgan.atomic import atomic_path, ensure_free_space, variables_nbytes, write_text
from kgan.errors import ConfigError, KganError

STATE = "state.json"
WEIGHTS = "model.weights.h5"
CHECKPOINT_PREFIX = "step_"
BROKEN_PREFIX = "broken_"  # an unreadable checkpoint, moved aside: broken_step_NNNNNNNNN
KEEP_CHECKPOINTS = 3


def read_json_object(path):
    """The JSON object in `path`, {} when it is missing, unreadable or not an object."""
    try:
        with open(path) as f:
            value = json.load(f)
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


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


def saved_bytes(variables):
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
        ensure_free_space(directory, saved_bytes(
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
    for old in checkpoint_candidates(directory)[max(keep, 1):]:
        path = os.path.dirname(old[1]) if old[0] is not None else old[1]
        shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)


def checkpoint_candidates(directory):
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
    legacy = read_json_object(os.path.join(directory, STATE))
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
    legacy_epoch = read_json_object(os.path.join(directory, STATE)).get("epoch", 0)
    for step, weights, state in checkpoint_candidates(directory):
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
