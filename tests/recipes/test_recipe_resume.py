"""A recipe SIGKILLed in the middle of an epoch and rerun ends with the weights and the
history of a run that was never interrupted (docs/reliability.md)."""

import os
import signal
import subprocess
import sys

import keras
import numpy as np
import pytest
from helpers import read_history

from kgan.recipes import cyclegan, pix2pix

RECIPES = {"pix2pix": pix2pix, "cyclegan": cyclegan}
# Killed right after step KILL_AT: 3 steps per epoch, so in the middle of epoch 2, one step
# after the checkpoint of step 4; the rerun redoes step 5 from that checkpoint.
KILL_AT = 5
# The child: the recipe's command line, SIGKILLed (no clean-up of any kind) after step KILL_AT.
KILLED_CHILD = f"""
import os, signal, sys
from kgan.callbacks import checkpoint
from kgan.recipes import {{recipe}} as recipe

original = checkpoint.ResumableCheckpoint.on_train_batch_end

def on_train_batch_end(self, batch, logs=None):
    original(self, batch, logs)
    if self._epoch_start + batch + 1 == {KILL_AT}:
        os.kill(os.getpid(), signal.SIGKILL)

checkpoint.ResumableCheckpoint.on_train_batch_end = on_train_batch_end
sys.exit(recipe.main(sys.argv[1:]))
"""


def final_weights(out, recipe):
    names = RECIPES[recipe].RECIPE.exports
    return [w for name in names
            for w in keras.models.load_model(out / f"{name}.keras").get_weights()]


@pytest.mark.slow
@pytest.mark.parametrize("recipe", ["pix2pix", "cyclegan"])
def test_sigkill_mid_epoch_then_rerun_equals_an_uninterrupted_run(recipe, tmp_path, tiny_args,
                                                                  unpaired_dir, capsys):
    data = {"data_dir": unpaired_dir} if recipe == "cyclegan" else {}
    args = dict(epochs=3, steps_per_epoch=3, checkpoint_steps=2, checkpoint_minutes=0, seed=3,
                **data)
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    assert RECIPES[recipe].main(tiny_args(recipe, out=straight, **args)) == 0

    argv = tiny_args(recipe, out=killed, **args)
    child = subprocess.run([sys.executable, "-c", KILLED_CHILD.format(recipe=recipe), *argv],
                           capture_output=True, text=True, timeout=600,
                           env={**os.environ, "CUDA_VISIBLE_DEVICES": ""})
    assert child.returncode == -signal.SIGKILL, child.stderr[-3000:]
    assert sorted(p.name for p in (killed / "checkpoints").glob("step_*")) == [
        "step_000000002", "step_000000003", "step_000000004"]
    assert not (killed / "generator.keras").exists() and not (killed / "generator_ab.keras").exists()

    capsys.readouterr()
    assert RECIPES[recipe].main(argv) == 0
    # The rest of epoch 2, then epoch 3 from a new pipeline: the files are checked once.
    assert capsys.readouterr().out.count(" training ") == 1
    # Exact on this CPU: same batches (the pipeline restarts at batch 4 of its seeded
    # sequence), same Adam moments and step count, same dropout / pool seed states.
    for resumed, uninterrupted in zip(final_weights(killed, recipe),
                                      final_weights(straight, recipe), strict=True):
        np.testing.assert_array_equal(resumed, uninterrupted)
    # The history too: epoch 2's row averages its three steps, one of them from before the kill.
    resumed, uninterrupted = read_history(killed), read_history(straight)
    assert [row["epoch"] for row in resumed] == ["0", "1", "2"]
    assert resumed[0].keys() == uninterrupted[0].keys()
    for row, expected in zip(resumed, uninterrupted, strict=True):
        np.testing.assert_allclose([float(row[k]) for k in row], [float(expected[k]) for k in row],
                                   rtol=1e-6, err_msg=f"epoch {row['epoch']}")
