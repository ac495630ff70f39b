"""BestGenerator: the generator kept is the one of the lowest val_fid, also across resumes."""

import json

import keras
import numpy as np

from kgan.callbacks.best_generator import BestGenerator, read_best
from kgan.run_folder import write_history


class Stamped(keras.Model):
    """A model whose `generator` is one Dense layer whose bias this test sets per epoch."""

    def __init__(self):
        super().__init__()
        self.generator = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])

    def call(self, inputs):
        return self.generator(inputs)


class FakeEpochs(keras.callbacks.Callback):
    """Stamps the generator with its epoch and writes a known val_fid into the logs."""

    def __init__(self, val_fids):
        super().__init__()
        self.val_fids = val_fids

    def on_epoch_end(self, epoch, logs=None):
        self.model.generator.layers[-1].bias.assign([epoch + 1.0] * 2)
        if self.val_fids[epoch] is not None:
            logs["val_fid"] = self.val_fids[epoch]


def fit(model, callbacks, epochs, initial_epoch=0):
    data = (np.zeros((4, 2), np.float32), np.zeros((4, 2), np.float32))
    model.compile(optimizer="sgd", loss="mse")
    model.fit(*data, batch_size=4, epochs=epochs, initial_epoch=initial_epoch, verbose=0,
              callbacks=callbacks)


def stamp(path):
    """The epoch a saved generator was stamped with."""
    return float(keras.saving.load_model(path).layers[-1].bias.numpy()[0])


def test_keeps_the_epoch_of_the_lowest_val_fid_as_it_rises(tmp_path):
    # Falls to epoch 3, then rises; epoch 2 is not evaluated; NaN never wins.
    val_fids = [90.0, None, 70.0, 80.0, float("nan"), 95.0]
    best = tmp_path / "best"
    callback = BestGenerator(str(best), ["generator"], str(tmp_path / "history.csv"))
    fit(Stamped(), [FakeEpochs(val_fids), callback], epochs=6)
    assert read_best(str(best)) == {"epoch": 3, "val_fid": 70.0, "monitor": "val_fid"}
    assert stamp(best / "generator.keras") == 3.0


def test_a_resume_at_an_epoch_whose_best_was_not_saved_keeps_it(tmp_path):
    # Killed after epoch 2's checkpoint (its history row has val_fid 60) and before its best
    # generator: best.json still names epoch 1. The resumed model holds epoch 2's weights.
    best, history = tmp_path / "best", tmp_path / "history.csv"
    write_history(str(history), ["epoch", "val_fid"],
                  [{"epoch": 0, "val_fid": 90.0}, {"epoch": 1, "val_fid": 60.0}])
    best.mkdir()
    (best / "best.json").write_text(json.dumps({"epoch": 1, "val_fid": 90.0}))
    model = Stamped()
    model.generator.layers[-1].bias.assign([2.0, 2.0])  # the checkpoint's weights
    callback = BestGenerator(str(best), ["generator"], str(history), initial_step=2,
                             steps_per_epoch=1)
    fit(model, [FakeEpochs([None, None, 75.0, 65.0]), callback], epochs=4, initial_epoch=2)
    assert read_best(str(best))["epoch"] == 2
    assert stamp(best / "generator.keras") == 2.0


def test_a_resume_keeps_a_best_already_saved_and_a_fresh_run_ignores_it(tmp_path):
    best, history = tmp_path / "best", tmp_path / "history.csv"
    write_history(str(history), ["epoch", "val_fid"], [{"epoch": 0, "val_fid": 50.0}])
    fit(Stamped(), [FakeEpochs([50.0]), BestGenerator(str(best), ["generator"], str(history))],
        epochs=1)
    resumed = BestGenerator(str(best), ["generator"], str(history), initial_step=1)
    fit(Stamped(), [FakeEpochs([None, 55.0]), resumed], epochs=2, initial_epoch=1)
    assert read_best(str(best))["epoch"] == 1 and stamp(best / "generator.keras") == 1.0
    # A new run (no checkpoint: step 0) starts its own best, whatever best/ holds.
    fit(Stamped(), [FakeEpochs([99.0]), BestGenerator(str(best), ["generator"], str(history))],
        epochs=1)
    assert read_best(str(best))["val_fid"] == 99.0
