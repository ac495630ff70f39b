"""ImageMetricsCallback inside model.fit: keys in History/CSVLogger, ModelCheckpoint on val_fid."""

import csv

import keras
import numpy as np
import pytest
import tensorflow as tf

from kgan.callbacks.metrics import ImageMetricsCallback
from kgan.metrics.frechet import frechet_distance_from_features
from kgan.metrics.image_quality import psnr

from helpers import tiny_features


def pairs(count, seed):
    """(input, target) pairs: the target is a fixed colour transform of a random image."""
    rng = np.random.default_rng(seed)
    inputs = np.tanh(rng.normal(0, 0.8, (count, 16, 16, 3))).astype(np.float32)
    targets = np.tanh(inputs[..., ::-1] * 1.5).astype(np.float32)
    return tf.data.Dataset.from_tensor_slices((inputs, targets)).batch(8)


def tiny_translator():
    model = keras.Sequential([keras.Input((16, 16, 3)),
                              keras.layers.Conv2D(8, 3, padding="same", activation="relu"),
                              keras.layers.Conv2D(3, 1, activation="tanh")])
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mae")
    return model


def test_fit_puts_metrics_into_history_csv_and_checkpoint(tmp_path):
    keras.utils.set_random_seed(0)
    model = tiny_translator()
    callback = ImageMetricsCallback(pairs(24, seed=1), every_n_epochs=1,
                                    feature_extractor=tiny_features)
    best = tmp_path / "best.keras"
    history = model.fit(pairs(64, seed=0), epochs=3, verbose=0, shuffle=False, callbacks=[
        callback,  # before the callbacks that read its keys
        keras.callbacks.ModelCheckpoint(str(best), monitor="val_fid", mode="min",
                                        save_best_only=True),
        keras.callbacks.CSVLogger(str(tmp_path / "log.csv"))])
    keys = ["val_fid", "val_precision", "val_recall", "val_psnr", "val_ssim"]
    for key in keys:
        assert len(history.history[key]) == 3 and np.isfinite(history.history[key]).all()
    assert 0.0 <= min(history.history["val_precision"]) <= max(history.history["val_precision"]) <= 1.0
    assert best.is_file()
    with open(tmp_path / "log.csv") as file:
        rows = list(csv.DictReader(file))
    assert set(keys) <= set(rows[0]) and len(rows) == 3
    # The logged numbers are the metrics of the final model on the held-out set.
    inputs = np.concatenate([x for x, _ in pairs(24, seed=1)])
    targets = np.concatenate([y for _, y in pairs(24, seed=1)])
    outputs = np.asarray(model(inputs, training=False))
    expected_fid = frechet_distance_from_features(tiny_features(targets), tiny_features(outputs))
    assert history.history["val_fid"][-1] == pytest.approx(expected_fid, rel=1e-5)
    assert history.history["val_psnr"][-1] == pytest.approx(float(np.mean(psnr(targets, outputs))),
                                                            rel=1e-5)


def test_checkpoint_keeps_the_model_with_the_lowest_fid(tmp_path):
    keras.utils.set_random_seed(1)
    model = tiny_translator()
    held_out = pairs(24, seed=1)
    best = tmp_path / "best.keras"
    history = model.fit(pairs(64, seed=0), epochs=4, verbose=0, shuffle=False, callbacks=[
        ImageMetricsCallback(held_out, feature_extractor=tiny_features, precision_recall=False),
        keras.callbacks.ModelCheckpoint(str(best), monitor="val_fid", mode="min",
                                        save_best_only=True)])
    fids = history.history["val_fid"]
    restored = keras.saving.load_model(str(best))
    check = ImageMetricsCallback(held_out, feature_extractor=tiny_features, generator=restored,
                                 precision_recall=False)
    assert check.evaluate()["fid"] == pytest.approx(min(fids), rel=1e-5)
    assert "val_precision" not in history.history


def test_every_n_epochs_and_unpaired_mode():
    keras.utils.set_random_seed(2)
    model = tiny_translator()
    history = model.fit(pairs(16, seed=0), epochs=4, verbose=0, shuffle=False, callbacks=[
        ImageMetricsCallback(pairs(24, seed=1), every_n_epochs=2, feature_extractor=tiny_features,
                             paired=False, prefix="test_")])
    # Keras' History only records keys present at each epoch: evaluations after epochs 2 and 4.
    assert len(history.history["test_fid"]) == 2
    assert "test_psnr" not in history.history
