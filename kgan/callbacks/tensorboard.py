"""TensorBoard logging of a recipe run: step scalars, epoch logs, sample grids and HParams."""

import glob
import os

import keras
import numpy as np
import tensorflow as tf
from PIL import Image
from tensorboard.plugins.hparams import api as hparams_api

from kgan.metrics import registry

# Metrics the HParams table shows as columns (when a run logs them): the losses, the
# validation metrics of --eval-every, and the sweep's test metrics of the final generator(s)
# and of the best-validation ones (`kgan.metrics.registry`'s keys).
HPARAMS_METRICS = (
    "epoch/g_loss", "epoch/d_loss", "epoch/val_l1",
    *(f"epoch/val_{key}" for key in registry.keys()),
    *(f"{prefix}/{key}" for prefix in ("test", "test_best")
      for key in registry.keys() + registry.directed_keys()),
)


class TensorBoardLogger(keras.callbacks.Callback):
    """Write a run's training curves, sample grids and options for `tensorboard --logdir`.

    Scalars:
        `train/<key>` every `every_steps` steps (the running mean of the epoch so far, as
        Keras reports it), `epoch/<key>` for every key of the epoch logs (`val_fid` ... too),
        both against the global step (the generator optimizer's update count), so resumed
        runs continue their curves.
    Images:
        `samples`: the newest PNG of `samples_dir` after each epoch (list this callback after
        the sample-grid callback that writes it).
    HParams:
        `hparams` (the run's options) with the metrics of `HPARAMS_METRICS`, so that the
        HParams dashboard compares the runs found under one `--logdir`.

    Args:
        log_dir: the run's `logs/` folder.
        every_steps: step-scalar period (>= 1).
        hparams: dict of option name -> bool/int/float/str (others become str; None dropped).
        samples_dir: folder of `epoch_NNN.png` sample grids, or None.
    """

    def __init__(self, log_dir, every_steps=50, hparams=None, samples_dir=None):
        super().__init__()
        self.log_dir = log_dir
        self.every_steps = max(int(every_steps), 1)
        self.hparams = {k: v if isinstance(v, (bool, int, float, str)) else str(v)
                        for k, v in (hparams or {}).items() if v is not None}
        self.samples_dir = samples_dir
        self._writer = None
        self._step = 0

    def on_train_begin(self, logs=None):
        self._writer = tf.summary.create_file_writer(self.log_dir)
        with self._writer.as_default():
            hparams_api.hparams_config(
                hparams=[hparams_api.HParam(name) for name in sorted(self.hparams)],
                metrics=[hparams_api.Metric(tag) for tag in HPARAMS_METRICS],
            )
            hparams_api.hparams(self.hparams)
        # The global step: the generator optimizer's update count, which a resumed run
        # restores with the checkpoint (also when it resumes in the middle of an epoch).
        optimizer = getattr(self.model, "g_optimizer", None) or self.model.optimizer
        self._step = int(optimizer.iterations.numpy())

    def on_train_batch_end(self, batch, logs=None):
        self._step += 1
        if self._step % self.every_steps == 0:
            self._scalars("train", logs)

    def on_epoch_end(self, epoch, logs=None):
        self._scalars("epoch", logs)
        image = self._newest_sample()
        if image is not None:
            with self._writer.as_default():
                tf.summary.image("samples", image[np.newaxis], step=self._step)
        self._writer.flush()

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()

    def _scalars(self, prefix, logs):
        with self._writer.as_default():
            for key, value in (logs or {}).items():
                value = float(np.asarray(value))
                if np.isfinite(value):
                    tf.summary.scalar(f"{prefix}/{key}", value, step=self._step)

    def _newest_sample(self):
        if not self.samples_dir:
            return None
        paths = sorted(glob.glob(os.path.join(self.samples_dir, "epoch_*.png")))
        if not paths:
            return None
        with Image.open(paths[-1]) as image:
            return np.asarray(image.convert("RGB"))


def log_test_metrics(log_dir, metrics, step, prefix="test"):
    """Write test-split metrics as `<prefix>/<name>` scalars (the HParams table's columns).

    Args:
        log_dir: the run's `logs/` folder.
        metrics: dict name -> number; only the registry's metrics (`fid`, `kid_ab`, ...) are
            written, and only finite ones.
        step: the global step they belong to (the run's last).
        prefix: "test" for the final generators, "test_best" for the best-validation ones.
    """
    writer = tf.summary.create_file_writer(log_dir)
    with writer.as_default():
        for name, value in metrics.items():
            if (registry.lookup(name) and isinstance(value, (int, float))
                    and np.isfinite(value)):
                tf.summary.scalar(f"{prefix}/{name}", float(value), step=step)
    writer.close()
