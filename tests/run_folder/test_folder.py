"""kgan.run_folder without training: checkpoints, fallback, history truncation, config."""

import argparse
import csv
import json

import keras
import numpy as np
import pytest

from kgan.errors import ConfigError
from kgan.run_folder import (MODEL, NonFiniteError, RunFolder, latest_checkpoint, load_checkpoint,
                             model_declarations, save_checkpoint, seed_states)


class Noisy(keras.Model):
    """Dense + Dropout: weights, an optimizer and a SeedGenerator state to checkpoint."""

    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(1)
        self.dropout = keras.layers.Dropout(0.5, seed=1)

    def call(self, x, training=False):
        return self.dropout(self.dense(x), training=training)


def small_model():
    model = Noisy()
    model.compile(optimizer="adam", loss="mse")
    model(np.zeros((1, 2), "float32"))
    model.optimizer.build(model.trainable_variables)
    return model


def set_kernel(model, value):
    model.dense.kernel.assign(np.full((2, 1), float(value), "float32"))


def history_rows(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_checkpoints_keep_the_newest_k_and_resume_truncates_the_history(tmp_path):
    folder = RunFolder(str(tmp_path))
    model = small_model()
    for step in (2, 4, 6, 8):  # 4 steps per epoch
        set_kernel(model, step)
        save_checkpoint(model, folder.checkpoints, step, steps_per_epoch=4, keep=3)
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == [
        "state.json", "step_000000004", "step_000000006", "step_000000008"]
    assert json.loads((tmp_path / "checkpoints" / "state.json").read_text()) == {
        "step": 8, "epoch": 2, "checkpoint": "step_000000008"}
    # Epochs 0-2 were logged, then the run died in epoch 2 (0-based) before its checkpoint.
    (tmp_path / "history.csv").write_text("epoch,loss\n0,1.0\n1,0.5\n2,0.25\n")

    resumed = small_model()
    checkpoint = folder.latest_checkpoint()
    assert (checkpoint.step, checkpoint.epoch) == (8, 2)
    assert folder.resume(resumed, checkpoint, steps_per_epoch=4) == 8
    np.testing.assert_array_equal(resumed.dense.kernel.numpy(), np.full((2, 1), 8.0))
    assert history_rows(tmp_path / "history.csv") == [["epoch", "loss"], ["0", "1.0"], ["1", "0.5"]]
    with pytest.raises(ConfigError, match="trained with 4 steps per epoch, its data now gives 5"):
        folder.resume(small_model(), checkpoint, steps_per_epoch=5)


def test_seed_states_are_checkpointed(tmp_path):
    model = small_model()
    [state] = seed_states(model)
    model(np.ones((4, 2), "float32"), training=True)  # advances the dropout seed
    advanced = np.asarray(state).copy()
    save_checkpoint(model, str(tmp_path), 1, steps_per_epoch=1)
    fresh = small_model()
    assert not np.array_equal(np.asarray(seed_states(fresh)[0]), advanced)
    load_checkpoint(fresh, latest_checkpoint(str(tmp_path)))
    np.testing.assert_array_equal(np.asarray(seed_states(fresh)[0]), advanced)


@pytest.mark.parametrize("damage", ["truncated-weights", "junk-state", "missing-state"])
def test_an_unreadable_newest_checkpoint_falls_back_to_the_previous(tmp_path, damage, capsys):
    model = small_model()
    for step in (1, 2):
        set_kernel(model, step)
        save_checkpoint(model, str(tmp_path), step, steps_per_epoch=1)
    newest = tmp_path / "step_000000002"
    if damage == "truncated-weights":
        data = (newest / "model.weights.h5").read_bytes()
        (newest / "model.weights.h5").write_bytes(data[:len(data) // 2])
    elif damage == "junk-state":
        (newest / "state.json").write_bytes(b"\x00\xff garbage")
        (tmp_path / "state.json").write_bytes(b"\x00\xff garbage")
    else:
        (newest / "state.json").unlink()
    checkpoint = latest_checkpoint(str(tmp_path))
    assert checkpoint.step == 1
    err = capsys.readouterr().err
    assert "warning: skipping the unreadable checkpoint" in err and "step_000000002" in err


def test_unreadable_checkpoints_are_moved_aside_kept_and_not_rotated(tmp_path, capsys):
    folder = RunFolder(str(tmp_path))
    model = small_model()
    for step in (1, 2, 3):
        save_checkpoint(model, folder.checkpoints, step, steps_per_epoch=1)
    for step in (2, 3):
        (tmp_path / "checkpoints" / f"step_00000000{step}" / "model.weights.h5").write_bytes(b"x")
    assert folder.latest_checkpoint(move_aside=True).step == 1
    assert "moved to broken_step_000000003" in capsys.readouterr().err
    assert folder.latest_checkpoint().step == 1  # nothing left to skip
    (tmp_path / "checkpoints" / "step_000000001" / "state.json").unlink()
    with pytest.raises(ConfigError, match="no readable checkpoint .*--restart"):
        folder.latest_checkpoint(move_aside=True)
    assert folder.latest_checkpoint(restart=True) is None
    # Asked again after they were moved: still refused.
    with pytest.raises(ConfigError, match="broken_step_000000001, broken_step_000000002"):
        folder.latest_checkpoint()
    # A restarted run's checkpoints are kept by the rotation, the broken ones too.
    save_checkpoint(model, folder.checkpoints, 1, steps_per_epoch=1, keep=1)
    broken = ["broken_step_000000001", "broken_step_000000002", "broken_step_000000003"]
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == [
        *broken, "state.json", "step_000000001"]
    assert folder.latest_checkpoint().step == 1
    # A name taken by an earlier broken one gets a suffix: nothing is overwritten.
    (tmp_path / "checkpoints" / "step_000000001" / "state.json").unlink()
    with pytest.raises(ConfigError):
        folder.latest_checkpoint(move_aside=True)
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == [
        broken[0], broken[0] + ".1", *broken[1:], "state.json"]


def test_non_finite_weights_are_never_checkpointed_or_saved(tmp_path):
    folder = RunFolder(str(tmp_path))
    model = small_model()
    save_checkpoint(model, folder.checkpoints, 1, steps_per_epoch=1)
    set_kernel(model, np.nan)
    with pytest.raises(NonFiniteError, match="the model at step 2 has non-finite weights"):
        save_checkpoint(model, folder.checkpoints, 2, steps_per_epoch=1)
    assert folder.latest_checkpoint().step == 1
    with pytest.raises(NonFiniteError, match="non-finite"):
        folder.save_generators(argparse.Namespace(generator=model), ["generator"])
    assert not (tmp_path / "generator.keras").exists()


def test_a_checkpoint_of_an_older_kgan_still_resumes(tmp_path):
    model = small_model()
    set_kernel(model, 3)
    (tmp_path / "checkpoints").mkdir()
    model.save_weights(str(tmp_path / "checkpoints" / "epoch_002.weights.h5"))
    (tmp_path / "checkpoints" / "state.json").write_text(
        json.dumps({"epoch": 2, "weights": "epoch_002.weights.h5"}))
    folder = RunFolder(str(tmp_path))
    resumed = small_model()
    assert folder.resume(resumed, folder.latest_checkpoint(), steps_per_epoch=5) == 10
    np.testing.assert_array_equal(resumed.dense.kernel.numpy(), np.full((2, 1), 3.0))


def test_prepare_compares_with_the_saved_config_and_writes_nothing(tmp_path):
    folder = RunFolder(str(tmp_path / "run"))
    defaults = {"lr": 2e-4, "mix": 0.5, "epochs": 10, "data_dir": None}
    options = argparse.Namespace(lr=2e-4, epochs=10, data_dir=None, config=None)
    folder.prepare(options, defaults, ("epochs",))
    assert not (tmp_path / "run").exists()
    folder.record(options)
    assert (tmp_path / "run" / "config.toml").read_text() == (
        "# data-dir: unset\nepochs = 10\nlr = 0.0002\n")
    save_checkpoint(small_model(), folder.checkpoints, 1, steps_per_epoch=1)
    (tmp_path / "run" / "checkpoints" / ".tmp-0123-step_000000002").mkdir()

    # More epochs, and an option newer than the saved config at its default: resumable.
    folder.prepare(argparse.Namespace(lr=2e-4, epochs=20, mix=0.5, data_dir=None, config=None),
                   defaults, ("epochs",))
    assert not (tmp_path / "run" / "checkpoints" / ".tmp-0123-step_000000002").exists()
    config = (tmp_path / "run" / "config.toml").read_bytes()
    for changed, message in ((dict(lr=0.1, mix=0.5), "--lr 0.0002, not 0.1"),
                             (dict(lr=2e-4, mix=0.25), "--mix 0.5, not 0.25"),
                             (dict(lr=2e-4, data_dir="x"), "--data-dir unset, not x")):
        with pytest.raises(ConfigError, match=message):
            folder.prepare(argparse.Namespace(**{"epochs": 20, "config": None, "mix": 0.5,
                                                 "data_dir": None, **changed}),
                           defaults, ("epochs",))
    assert (tmp_path / "run" / "config.toml").read_bytes() == config


def test_out_naming_a_file_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="is a file, not a folder"):
        RunFolder(str(tmp_path / "file")).prepare(argparse.Namespace(config=None), {}, ())


class TwoGenerators(argparse.Namespace):
    """A stand-in model with two generators, declared as a kgan model declares them."""

    EXPORTS = {"generator_ab": ("", "G (A -> B)"), "generator_ba": ("_BtoA", "F (B -> A)")}
    CURVES = {"total": "g_loss"}


def test_saved_generators_are_the_models_declared_exports_in_order(tmp_path):
    folder = RunFolder(str(tmp_path))
    model = TwoGenerators(generator_ba=small_model(), generator_ab=small_model())
    paths = folder.save_generators(model, model.EXPORTS)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["generator_ab.keras",
                                                          "generator_ba.keras"]
    # A folder of an older kgan (no model.json): only the exports the caller knows are found.
    assert folder.saved_generators() == []
    assert folder.saved_generators(TwoGenerators.EXPORTS) == [("", paths[0]), ("_BtoA", paths[1])]
    (tmp_path / MODEL).write_text(json.dumps(model_declarations(model)))
    assert folder.saved_generators() == [("", paths[0]), ("_BtoA", paths[1])]
    assert json.loads((tmp_path / MODEL).read_text()) == {
        "model": "TwoGenerators", "curves": {"total": "g_loss"},
        "exports": {"generator_ab": ["", "G (A -> B)"], "generator_ba": ["_BtoA", "F (B -> A)"]}}
