"""Resumable training state: step-level checkpoints of a run folder, and the divergence guard
(NaN/Inf or exploding losses) that keeps a diverged run from overwriting them."""

import time

import keras
import numpy as np

from kgan.run_folder.checkpoints import (KEEP_CHECKPOINTS, DivergedError, NonFiniteError,
                                         restore_epoch_means, save_checkpoint)

# Time is what a kill loses, and what a checkpoint costs grows with the model (a 256 px
# pix2pix with its Adam moments is ~0.7 GB), so the default period is in minutes: at most
# 10 minutes of training are lost, for a few seconds of writing (< 1% of the time).
CHECKPOINT_MINUTES = 10
# A loss whose epoch mean passes this (in absolute value) has exploded. The recipes' losses at
# their defaults stay below a few hundred (an L1 weighted by 100 is at most 200; adversarial
# losses are O(1)); `--lr 1e6` reaches 1e13 within a few steps. `--max-loss 0` turns it off.
MAX_LOSS = 1e6


class ResumableCheckpoint(keras.callbacks.Callback):
    """Save the whole model state every N steps or M minutes, and after every epoch.

    The epoch-end checkpoint is the last thing an epoch writes (list this callback after the
    history row and the sample grid): a checkpoint at an epoch boundary means the epoch's
    row and samples exist, so a run killed during validation resumes from the checkpoint
    before and writes them. A step or minute checkpoint due on an epoch's last batch is
    left to that epoch-end one.

    Each checkpoint is `step_NNNNNNNNN/` in `directory` (networks, optimizers, image pools,
    seed states, the epoch's running loss means;
    `kgan.run_folder.checkpoints.save_checkpoint`), written atomically; the newest `keep` are kept. `RunFolder.resume` loads the newest readable one.
    A run resumed part-way through an epoch starts that epoch's means from the checkpoint's,
    so its history row averages all of the epoch's steps, as an uninterrupted run's does.

    Args:
        directory: folder for the checkpoints (created when missing).
        steps_per_epoch: the run's full epoch, to number the steps across epochs.
        initial_step: the optimizer steps done when this `fit` starts (a resumed run's).
        every_steps: also save every this many steps (0: off).
        every_minutes: also save when this many minutes passed since the last save (0: off).
        keep: checkpoints kept (the newest).
        epoch_means: the resumed checkpoint's `Checkpoint.epoch_means` ({} for none).
        options: the run's options as config.toml holds them (`config_values`), recorded in
            each checkpoint.
    """

    def __init__(self, directory, steps_per_epoch, initial_step=0, every_steps=0,
                 every_minutes=CHECKPOINT_MINUTES, keep=KEEP_CHECKPOINTS, epoch_means=None,
                 options=None):
        super().__init__()
        self.directory = directory
        self.steps_per_epoch = steps_per_epoch
        self.initial_step = initial_step
        self.every_steps = every_steps
        self.every_seconds = every_minutes * 60
        self.keep = keep
        self.epoch_means = epoch_means or {}
        self.options = options
        self._epoch_start = initial_step
        self._saved_at = time.monotonic()

    def on_epoch_begin(self, epoch, logs=None):
        # A resumed run's first epoch starts part-way through (at `initial_step`); Keras has
        # just reset the trackers, so they take the checkpoint's sums here.
        self._epoch_start = max(epoch * self.steps_per_epoch, self.initial_step)
        if self._epoch_start % self.steps_per_epoch and self.epoch_means:
            restore_epoch_means(self.model, self.epoch_means)

    def on_train_batch_end(self, batch, logs=None):
        step = self._epoch_start + batch + 1
        if step % self.steps_per_epoch == 0:
            return  # the epoch's last batch: on_epoch_end saves, after the row and samples
        due_steps = self.every_steps and step % self.every_steps == 0
        due_time = self.every_seconds and time.monotonic() - self._saved_at >= self.every_seconds
        if due_steps or due_time:
            self._save(step)

    def on_epoch_end(self, epoch, logs=None):
        self._save((epoch + 1) * self.steps_per_epoch)

    def _save(self, step):
        save_checkpoint(self.model, self.directory, step, self.steps_per_epoch, self.keep,
                        self.options)
        self._saved_at = time.monotonic()


class FiniteLossGuard(keras.callbacks.Callback):
    """Stop training at the first step whose logged losses are NaN or infinite, or whose
    absolute value exceeds `max_loss` (a loss exploding without overflowing yet).

    Raises `NonFiniteError` or `DivergedError` naming the step, so nothing after it
    (checkpoint, history row, final generator, export) is written; list it before the
    callbacks that write. The logs are the epoch's running means, so one non-finite step
    shows in every later one too, and a step over `max_loss` times the steps so far does.

    Args:
        steps_per_epoch, initial_step: as for `ResumableCheckpoint`, to name the step.
        hint: what the error line suggests.
        max_loss: the bound on |loss| (`MAX_LOSS`); 0 or None: only NaN and Inf stop.
    """

    def __init__(self, steps_per_epoch, initial_step=0, hint="lower --lr or the loss weights",
                 max_loss=MAX_LOSS):
        super().__init__()
        self.steps_per_epoch = steps_per_epoch
        self.initial_step = initial_step
        self.hint = hint
        self.max_loss = max_loss
        self._epoch_start = initial_step

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = max(epoch * self.steps_per_epoch, self.initial_step)

    def on_train_batch_end(self, batch, logs=None):
        # The largest |value| of each logged loss: NaN when one is NaN, inf when infinite.
        sizes = {key: float(np.max(np.abs(np.asarray(value, dtype=np.float64))))
                 for key, value in (logs or {}).items()}
        step = self._epoch_start + batch + 1
        bad = {key: size for key, size in sizes.items() if not np.isfinite(size)}
        if bad:
            raise NonFiniteError(
                f"non-finite loss at step {step} ({_shown(bad)}): training stopped; the run "
                f"keeps its last finite checkpoint and writes no generator; {self.hint}")
        huge = {key: size for key, size in sizes.items() if self.max_loss and size > self.max_loss}
        if huge:
            raise DivergedError(
                f"loss exploded at step {step} ({_shown(huge)}, over --max-loss "
                f"{self.max_loss:g}): training stopped; the run keeps its last checkpoint before "
                f"it and writes no generator; {self.hint}, or pass --max-loss 0 to train on")


def _shown(sizes):
    """"d_loss = |2.1e+13|, g_loss = |nan|": the losses of an error line."""
    return ", ".join(f"{key} = |{size:.3g}|" for key, size in sorted(sizes.items()))
