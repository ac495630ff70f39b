"""Sample grids of a CycleGAN: both translations and their round trips, epoch by epoch."""

import os

import keras
import numpy as np

from kgan.callbacks.sample_grid import image_grid, save_png_atomic


class CycleSamples(keras.callbacks.Callback):
    """Write `directory/epoch_NNN.png` every `every` epochs.

    The grid has one row per example: first the A examples as A | G(A) | F(G(A)), then the
    B examples as B | F(B) | G(F(B)). Works with any model that has `generator_ab` and
    `generator_ba` (a `kgan.CycleGAN`).

    Args:
        real_a: float32 [N, H, W, 3] in [-1, 1], fixed examples of domain A.
        real_b: float32 [M, H, W, 3] in [-1, 1], fixed examples of domain B.
        directory: output folder (created when missing).
        every: epoch interval.
    """

    def __init__(self, real_a, real_b, directory, every=1):
        super().__init__()
        self.real_a = real_a
        self.real_b = real_b
        self.directory = directory
        self.every = every

    def grid(self):
        """The current grid, uint8 [(N + M) * H, 3 * W, 3]."""
        # Plain calls, not predict_on_batch: under a distribution strategy that splits (and
        # pads) the few samples over the replicas.
        g, f = self.model.generator_ab, self.model.generator_ba
        fake_b = g(self.real_a, training=False)
        fake_a = f(self.real_b, training=False)
        rows_a = image_grid([self.real_a, fake_b, f(fake_b, training=False)])
        rows_b = image_grid([self.real_b, fake_a, g(fake_a, training=False)])
        return np.concatenate([rows_a, rows_b], axis=0)

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        os.makedirs(self.directory, exist_ok=True)
        save_png_atomic(self.grid(), os.path.join(self.directory, f"epoch_{epoch + 1:03d}.png"))
