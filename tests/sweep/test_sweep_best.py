"""A tiny sweep with eval-every in its base: final and best generators scored on the test
split, with the protocol, feature precision, N and FID's interval in results.csv and report."""

import csv
import math
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from helpers import read_history

GRID = """
recipe = "pix2pix"
protocol = "paper"
title = "facades, best epoch by val FID"
[base]
direction = "BtoA"
image-size = 32
base-filters = 8
batch-size = 4
norm = "instance"
epochs = 3
steps-per-epoch = 2
samples = 2
eval-every = 1
eval-images = 8
[variants.l1]
"""


@pytest.mark.slow
def test_sweep_scores_final_and_best_generators(tmp_path, facades_dir):
    grid = tmp_path / "grid.toml"
    grid.write_text(GRID)
    out = tmp_path / "sweep"
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run(
        [sys.executable, "-m", "kgan.sweep", str(grid), "--out", str(out), "--eval-images", "8",
         "--qualitative", "2", "--seeds", "5", "--set", f"data-dir={facades_dir}"],
        capture_output=True, text=True, timeout=900, env=env)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    run = out / "runs" / "l1" / "seed5"
    with open(out / "results.csv", newline="") as f:
        (row,) = csv.DictReader(f)
    assert (row["variant"], row["seed"], row["option.seed"]) == ("l1", "5", "5")
    assert (row["protocol"], row["feature_precision"], row["validation"]) == (
        "paper", "float32", "val")
    assert (row["num_generated"], row["num_reference"]) == ("8", "8")
    for prefix in ("", "best."):
        fid = float(row[f"{prefix}fid"])
        assert float(row[f"{prefix}fid_low"]) <= fid <= float(row[f"{prefix}fid_high"])
        for key in ("psnr", "kid"):  # KID: one block of 8 images, so no kid_std
            assert math.isfinite(float(row[f"{prefix}{key}"])), prefix + key

    # The best epoch is the one of the lowest val FID in history.csv (val split, 8 pairs).
    val_fids = [float(r["val_fid"]) for r in read_history(run)]
    assert len(val_fids) == 3
    assert int(row["best.epoch"]) == int(np.argmin(val_fids)) + 1
    assert float(row["best.val_fid"]) == pytest.approx(min(val_fids))
    best = keras.saving.load_model(run / "best" / "generator.keras")
    final = keras.saving.load_model(run / "generator.keras")
    same = all(np.array_equal(a, b) for a, b in zip(best.get_weights(), final.get_weights()))
    assert same == (int(row["best.epoch"]) == 3)
    if same:  # one generator saved twice gets one score, dropout on (the paper protocol) too
        assert row["best.fid"] == row["fid"] and row["best.psnr"] == row["psnr"]

    page = (out / "report.html").read_text()
    for text in ("<th>FID</th>", "<th>FID, best epoch</th>", "<th>Best epoch</th>",
                 "<th>Protocol</th>", "<td>paper</td>", "<th>Features</th>", "<td>float32</td>",
                 "<th>N (generated/reference)</th>", "<th>KID</th>", "<th>KID, best epoch</th>", "<td>8/8</td>",
                 f"<td>{row['best.epoch']}</td>", "FID&#x27;s 95% bootstrap interval"):
        assert text in page, text
