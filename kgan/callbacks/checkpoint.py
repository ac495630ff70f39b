"""Resumable training state: per-epoch weight checkpoints of a run folder."""

import keras

from kgan.run_folder import save_checkpoint


class ResumableCheckpoint(keras.callbacks.Callback):
    """Save the whole model state (networks and optimizers) after every epoch.

    Files in `directory`: `epoch_NNN.weights.h5` (only the newest is kept) and `state.json`
    naming it, both written atomically (`kgan.run_folder.save_checkpoint`), so a crash never
    leaves a half-written checkpoint behind. `RunFolder.resume` loads the newest one.

    Args:
        directory: folder for the checkpoints (created when missing).
    """

    def __init__(self, directory):
        super().__init__()
        self.directory = directory

    def on_epoch_end(self, epoch, logs=None):
        save_checkpoint(self.model, self.directory, epoch + 1)

