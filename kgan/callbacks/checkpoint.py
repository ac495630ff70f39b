"""Resumable training state: per-epoch weight checkpoints written atomically."""

import json
import os

import keras


class ResumableCheckpoint(keras.callbacks.Callback):
    """Save the whole model state (networks and optimizers) after every epoch.

    Files in `directory`: `epoch_NNN.weights.h5` (only the newest is kept) and
    `state.json` naming it. Each file is written under a temporary name and renamed into
    place, so a crash never leaves a half-written checkpoint behind; `state.json` only
    ever points at a complete file.

    Args:
        directory: folder for the checkpoints (created when missing).
    """

    def __init__(self, directory):
        super().__init__()
        self.directory = directory

    def on_epoch_end(self, epoch, logs=None):
        os.makedirs(self.directory, exist_ok=True)
        name = f"epoch_{epoch + 1:03d}.weights.h5"
        tmp = os.path.join(self.directory, f"tmp_{name}")
        self.model.save_weights(tmp, overwrite=True)
        os.replace(tmp, os.path.join(self.directory, name))
        previous = latest_checkpoint(self.directory)
        _write_json_atomic(os.path.join(self.directory, "state.json"), {"epoch": epoch + 1, "weights": name})
        if previous and os.path.basename(previous[1]) != name:
            os.remove(previous[1])


def latest_checkpoint(directory):
    """`(epochs_done, weights_path)` of the newest complete checkpoint, or None."""
    state_path = os.path.join(directory, "state.json")
    if not os.path.exists(state_path):
        return None
    with open(state_path) as f:
        state = json.load(f)
    path = os.path.join(directory, state["weights"])
    return (int(state["epoch"]), path) if os.path.exists(path) else None


def _write_json_atomic(path, value):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(value, f)
    os.replace(tmp, path)
