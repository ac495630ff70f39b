"""ResumableCheckpoint and FiniteLossGuard, driven directly (no fit): when checkpoints are
written and rotated, and which losses stop a run, naming the step."""

import math

import keras
import numpy as np
import pytest

from kgan.callbacks.checkpoint import FiniteLossGuard, ResumableCheckpoint
from kgan.run_folder.checkpoints import (DivergedError, NonFiniteError, checkpoint_candidates,
                                         latest_checkpoint, load_checkpoint)


def small_model():
    """A built Dense model with one Mean tracker, as a GAN's trackers."""
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
    model.loss_tracker = keras.metrics.Mean(name="g_loss")
    return model


def saved_steps(directory):
    return sorted(step for step, _, _ in checkpoint_candidates(str(directory)))


def run_batches(callback, epochs, steps_per_epoch, start_epoch=0, first_batch=0):
    for epoch in range(start_epoch, epochs):
        callback.on_epoch_begin(epoch)
        first = first_batch if epoch == start_epoch else 0
        for batch in range(steps_per_epoch - first):
            callback.on_train_batch_end(batch, {"g_loss": 1.0})
        callback.on_epoch_end(epoch, {"g_loss": 1.0})


def test_checkpoints_every_n_steps_and_at_each_epoch_end_keeping_the_newest(tmp_path):
    model = small_model()
    callback = ResumableCheckpoint(str(tmp_path), steps_per_epoch=3, every_steps=2,
                                   every_minutes=0, keep=3)
    callback.set_model(model)
    run_batches(callback, epochs=2, steps_per_epoch=3)
    # Steps 2, 3 (epoch end), 4, 6 (epoch end; the step checkpoint due there is left to it);
    # the newest three are kept.
    assert saved_steps(tmp_path) == [3, 4, 6]
    assert latest_checkpoint(str(tmp_path)).step == 6


def test_a_resumed_epoch_numbers_steps_from_the_checkpoint(tmp_path):
    model = small_model()
    # Resumed at step 4 of 3-step epochs: epoch 1, one batch left.
    callback = ResumableCheckpoint(str(tmp_path), steps_per_epoch=3, initial_step=4,
                                   every_steps=1, every_minutes=0, keep=10)
    callback.set_model(model)
    callback.on_epoch_begin(1)
    callback.on_train_batch_end(0)  # step 5
    callback.on_epoch_end(1)        # step 6
    assert saved_steps(tmp_path) == [5, 6]


def test_a_checkpoint_restores_the_weights_it_saved(tmp_path):
    model = small_model()
    callback = ResumableCheckpoint(str(tmp_path), steps_per_epoch=1, every_minutes=0)
    callback.set_model(model)
    callback.on_epoch_begin(0)
    callback.on_epoch_end(0)
    saved = model.get_weights()
    model.set_weights([np.zeros_like(w) for w in saved])
    load_checkpoint(model, latest_checkpoint(str(tmp_path)))
    for before, after in zip(saved, model.get_weights()):
        np.testing.assert_array_equal(before, after)


def test_the_guard_stops_at_the_first_non_finite_loss_naming_its_step():
    guard = FiniteLossGuard(steps_per_epoch=10, initial_step=12)
    guard.on_epoch_begin(1)  # a resumed run: step 12 is batch 2 of epoch 1
    guard.on_train_batch_end(0, {"g_loss": 1.0, "d_loss": np.float32(0.5)})
    with pytest.raises(NonFiniteError, match=r"non-finite loss at step 14 \(d_loss = \|nan\|\)"):
        guard.on_train_batch_end(1, {"g_loss": 1.0, "d_loss": math.nan})
    with pytest.raises(NonFiniteError, match=r"g_loss = \|inf\|"):
        guard.on_train_batch_end(1, {"g_loss": -math.inf})


def test_the_guard_stops_an_exploding_loss_unless_the_bound_is_off():
    guard = FiniteLossGuard(steps_per_epoch=5, max_loss=100.0)
    guard.on_epoch_begin(0)
    guard.on_train_batch_end(0, {"g_loss": 99.0})
    with pytest.raises(DivergedError, match=r"loss exploded at step 2 \(g_loss = \|101\|, over "
                                            r"--max-loss 100\)") as error:
        guard.on_train_batch_end(1, {"g_loss": -101.0})
    assert not isinstance(error.value, NonFiniteError)
    unbounded = FiniteLossGuard(steps_per_epoch=5, max_loss=0)
    unbounded.on_epoch_begin(0)
    unbounded.on_train_batch_end(0, {"g_loss": 1e30})
