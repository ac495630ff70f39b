"""Sample grids: how the generator's outputs look, epoch by epoch."""

import os

import keras
import numpy as np
from PIL import Image

from kgan.atomic import atomic_path
from kgan.data.transforms import to_uint8


def image_grid(columns):
    """Tile image batches into one picture: one row per example, one column per batch.

    Args:
        columns: list of arrays, each [N, H, W, 3] in [-1, 1] (e.g. input, output, target).

    Returns:
        uint8 array [N * H, len(columns) * W, 3].
    """
    rows = np.concatenate([np.asarray(to_uint8(c)) for c in columns], axis=2)
    return rows.reshape(-1, rows.shape[2], rows.shape[3])


def save_png_atomic(array, path):
    """Write a uint8 [H, W, 3] array as PNG, atomically (`kgan.atomic`)."""
    with atomic_path(path) as tmp:
        Image.fromarray(array).save(tmp, format="PNG")


class SampleGrid(keras.callbacks.Callback):
    """Write `directory/epoch_NNN.png` every `every` epochs: input | output | target rows.

    Args:
        inputs: float32 [N, H, W, 3] in [-1, 1], fixed examples (e.g. from the test split).
        targets: float32 [N, H, W, 3] in [-1, 1], their ground truth.
        directory: output folder (created when missing).
        every: epoch interval.
    """

    def __init__(self, inputs, targets, directory, every=1):
        super().__init__()
        self.inputs = inputs
        self.targets = targets
        self.directory = directory
        self.every = every

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        # A plain call, not predict_on_batch: under a distribution strategy that splits (and
        # pads) the few samples over the replicas.
        outputs = self.model(self.inputs, training=False)
        os.makedirs(self.directory, exist_ok=True)
        path = os.path.join(self.directory, f"epoch_{epoch + 1:03d}.png")
        save_png_atomic(image_grid([self.inputs, outputs, self.targets]), path)
