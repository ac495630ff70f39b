"""HistoryCSV: one fixed set of columns across epochs and resumes, "NA" where an epoch lacks
a value."""

import csv

import keras
import numpy as np

from kgan.callbacks import HistoryCSV


def rows(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def log_epochs(path, epochs, extra_keys=()):
    """Feed `epochs` ({epoch: logs}) to a fresh HistoryCSV over `path`, as one fit would."""
    callback = HistoryCSV(str(path), extra_keys=extra_keys)
    callback.set_model(keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)]))
    callback.on_train_begin()
    for epoch, logs in epochs.items():
        callback.on_epoch_end(epoch, dict(logs))
    callback.on_train_end()


def test_a_key_only_some_epochs_have_gets_its_column_from_the_first_row(tmp_path):
    path = tmp_path / "history.csv"
    log_epochs(path, {0: {"g_loss": 2.0}, 1: {"g_loss": 1.5, "val_fid": 90.0}},
               extra_keys=["val_fid"])
    assert rows(path) == [["epoch", "g_loss", "val_fid"], ["0", "2.0", "NA"],
                          ["1", "1.5", "90.0"]]


def test_a_resume_with_new_columns_rewrites_the_file_once_and_appends(tmp_path):
    path = tmp_path / "history.csv"
    log_epochs(path, {0: {"g_loss": 2.0}})
    log_epochs(path, {1: {"g_loss": 1.0, "d_loss": np.float32(0.25)}})
    assert rows(path) == [["epoch", "d_loss", "g_loss"], ["0", "NA", "2.0"],
                          ["1", "0.25", "1.0"]]
    log_epochs(path, {2: {"g_loss": 0.5}})  # a column the epoch lacks stays, as NA
    assert rows(path)[-1] == ["2", "NA", "0.5"]
