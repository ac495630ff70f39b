"""kgan.run_folder without training: checkpoints, history truncation, config comparison."""

import argparse
import csv
import json

import keras
import numpy as np
import pytest

from kgan.errors import ConfigError
from kgan.run_folder import RunFolder, latest_checkpoint, save_checkpoint


def small_model():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def test_checkpoints_keep_the_newest_and_resume_truncates_the_history(tmp_path):
    folder = RunFolder(str(tmp_path))
    model = small_model()
    for epochs_done in (1, 2):
        model.layers[0].kernel.assign(np.full((2, 1), float(epochs_done), "float32"))
        save_checkpoint(model, folder.checkpoints, epochs_done)
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == [
        "epoch_002.weights.h5", "state.json"]
    assert json.loads((tmp_path / "checkpoints" / "state.json").read_text()) == {
        "epoch": 2, "weights": "epoch_002.weights.h5"}
    # Epoch 3 was logged, then the run died before its checkpoint.
    (tmp_path / "history.csv").write_text("epoch,loss\n0,1.0\n1,0.5\n2,0.25\n")

    resumed = small_model()
    assert folder.resume(resumed) == 2
    np.testing.assert_array_equal(resumed.layers[0].kernel.numpy(), np.full((2, 1), 2.0))
    with open(tmp_path / "history.csv", newline="") as f:
        assert list(csv.reader(f)) == [["epoch", "loss"], ["0", "1.0"], ["1", "0.5"]]


def test_prepare_compares_with_the_saved_config_and_cleans_temporaries(tmp_path):
    folder = RunFolder(str(tmp_path))
    defaults = {"lr": 2e-4, "mix": 0.5, "epochs": 10}
    folder.prepare(argparse.Namespace(lr=2e-4, epochs=10, config=None), defaults, ("epochs",))
    assert (tmp_path / "config.toml").read_text() == "epochs = 10\nlr = 0.0002\n"
    save_checkpoint(small_model(), folder.checkpoints, 1)
    (tmp_path / "checkpoints" / ".tmp-0123-epoch_002.weights.h5").write_text("killed")

    # More epochs, and an option newer than the saved config at its default: resumable.
    folder.prepare(argparse.Namespace(lr=2e-4, epochs=20, mix=0.5, config=None), defaults,
                   ("epochs",))
    assert not (tmp_path / "checkpoints" / ".tmp-0123-epoch_002.weights.h5").exists()
    assert latest_checkpoint(folder.checkpoints)[0] == 1
    for changed, message in ((dict(lr=0.1, mix=0.5), "--lr 0.0002, not 0.1"),
                             (dict(lr=2e-4, mix=0.25), "--mix 0.5, not 0.25")):
        with pytest.raises(ConfigError, match=message):
            folder.prepare(argparse.Namespace(epochs=20, config=None, **changed), defaults,
                           ("epochs",))


def test_saved_generators_are_found_in_export_order(tmp_path):
    folder = RunFolder(str(tmp_path))
    assert folder.saved_generators() == []
    model = argparse.Namespace(generator_ba=small_model(), generator_ab=small_model())
    paths = folder.save_generators(model, ["generator_ab", "generator_ba"])
    assert folder.saved_generators() == [("", paths[0]), ("_BtoA", paths[1])]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["generator_ab.keras", "generator_ba.keras"]
