"""Keep the generator(s) of the epoch with the lowest validation FID, resumably."""

import json
import math
import os

import keras
import numpy as np

from kgan.atomic import atomic_path, write_text
from kgan.run_folder import read_history

BEST_JSON = "best.json"


class BestGenerator(keras.callbacks.Callback):
    """After each evaluated epoch, keep the generators if its validation FID is the lowest.

    Writes `directory/<name>.keras` for each generator attribute in `names` (atomically, one
    file each) and then `directory/best.json`: `{"epoch": E, "val_fid": x, "monitor": ...}`
    with E the number of epochs trained (history.csv's row `epoch` = E - 1). List it after
    the callback that writes `monitor` into the logs (`ImageMetricsCallback`) and after the
    checkpoint callback: then a kill can only fall between an epoch's checkpoint and its best
    generator, and a run resumed from that checkpoint (whose weights are that epoch's) finds
    the epoch's `monitor` in history.csv and keeps the generators then, so a resumed run ends
    with the best generator an uninterrupted one keeps.

    Only validation data may feed `monitor`: the generator it selects is scored on the test
    split afterwards.

    Args:
        directory: where the best generators go (e.g. RUN/best).
        names: the model's generator attributes ("generator", or "generator_ab", ...).
        history: the run's history.csv (read when resuming).
        initial_step, steps_per_epoch: optimizer steps done before this `fit` and per epoch.
        monitor: the log key to minimise.
    """

    def __init__(self, directory, names, history, initial_step=0, steps_per_epoch=1,
                 monitor="val_fid"):
        super().__init__()
        self.directory = directory
        self.names = tuple(names)
        self.history = history
        self.initial_step = initial_step
        self.steps_per_epoch = steps_per_epoch
        self.monitor = monitor
        self.best = None  # (epoch, value)

    def on_train_begin(self, logs=None):
        # A fresh run ignores a best/ a discarded attempt may have left.
        self.best = read_best(self.directory) if self.initial_step else None
        epochs, offset = divmod(self.initial_step, self.steps_per_epoch)
        if epochs and not offset:
            value = _logged(self.history, epochs - 1, self.monitor)
            if value is not None and (self.best is None or epochs > self.best["epoch"]):
                self._consider(epochs, value)

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is not None:
            self._consider(epoch + 1, float(np.asarray(value)))

    def _consider(self, epoch, value):
        if not math.isfinite(value):
            return
        if self.best is not None and value >= self.best["val_fid"]:
            return
        for name in self.names:
            with atomic_path(os.path.join(self.directory, f"{name}.keras")) as tmp:
                getattr(self.model, name).save(tmp)
        self.best = {"epoch": epoch, "val_fid": value, "monitor": self.monitor}
        write_text(os.path.join(self.directory, BEST_JSON), json.dumps(self.best, indent=1))


def read_best(directory):
    """best.json of a best-generator folder as a dict (`epoch`, `val_fid`), or None."""
    try:
        with open(os.path.join(directory, BEST_JSON)) as f:
            best = json.load(f)
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return best if isinstance(best, dict) and {"epoch", "val_fid"} <= set(best) else None


def _logged(history, epoch, key):
    """The finite value of `key` in history.csv's row `epoch` (0-based), or None."""
    rows = read_history(history)
    if not rows or key not in rows[0]:
        return None
    column = rows[0].index(key)
    for row in rows[1:]:
        if row[0] == str(epoch) and len(row) > column:
            try:
                value = float(row[column])
            except ValueError:
                return None
            return value if math.isfinite(value) else None
    return None
