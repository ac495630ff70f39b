"""TensorBoardLogger and log_test_metrics, driven directly: which scalars go where, at which
global step, and what is left out."""

import keras
import numpy as np
from PIL import Image

from helpers import read_events
from kgan.callbacks.tensorboard import TensorBoardLogger, log_test_metrics


def resumed_model(steps_done):
    """A built model whose optimizer has made `steps_done` updates (a resumed run's)."""
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.optimizer.build(model.trainable_variables)
    model.optimizer.iterations.assign(steps_done)
    return model


def test_step_and_epoch_scalars_continue_from_the_optimizers_step(tmp_path):
    samples = tmp_path / "samples"
    samples.mkdir()
    Image.fromarray(np.zeros((4, 6, 3), np.uint8)).save(samples / "epoch_000.png")
    logger = TensorBoardLogger(str(tmp_path / "logs"), every_steps=2,
                               hparams={"lr": 2e-4, "norm": "batch", "data_dir": None},
                               samples_dir=str(samples))
    logger.set_model(resumed_model(7))
    logger.on_train_begin()
    for batch in range(3):  # global steps 8, 9, 10
        logger.on_train_batch_end(batch, {"g_loss": float(batch)})
    logger.on_epoch_end(0, {"g_loss": 1.0, "val_fid": float("nan")})
    logger.on_train_end()
    scalars, images, plugins = read_events(tmp_path / "logs")
    assert scalars["train/g_loss"] == [(8, 0.0), (10, 2.0)]
    assert scalars["epoch/g_loss"] == [(10, 1.0)]
    assert "epoch/val_fid" not in scalars  # not finite: not written
    assert images == {"samples"} and "hparams" in plugins


def test_test_metrics_are_the_registrys_finite_ones(tmp_path):
    log_test_metrics(str(tmp_path), {"fid": 80.5, "kid_ab": 0.5, "psnr": float("inf"),
                                     "seconds": 12.0, "steps": 100}, step=100, prefix="test_best")
    scalars, _, _ = read_events(tmp_path)
    assert scalars == {"test_best/fid": [(100, 80.5)], "test_best/kid_ab": [(100, 0.5)]}
