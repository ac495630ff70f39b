"""A sweep never counts a run trained with other options as finished (issue 18, case 4)."""

import csv
import json
import subprocess
import sys

import pytest

from kgan.errors import ConfigError
from kgan.recipes import pix2pix
from kgan.run_folder import EVALUATION, write_config
from kgan.sweep.__main__ import main as sweep_main
from kgan.sweep.grid import load_grid
from kgan.sweep.recorded import difference
from kgan.sweep.runner import Sweep

GRID = """
recipe = "pix2pix"
[base]
image-size = 32
base-filters = 8
epochs = 1
steps-per-epoch = 1
precision = "auto"
[variants.l1]
[variants.l2]
recon-loss = "l2"
"""


def finished_run(run_dir, argv):
    """A run folder as the recipe and the evaluation leave it: the config.toml the recipe
    records for `argv`, and an evaluation.json."""
    options = pix2pix.parse_args([*argv, "--out", str(run_dir)])
    run_dir.mkdir(parents=True)
    write_config(options, run_dir / "config.toml")
    (run_dir / EVALUATION).write_text(json.dumps({"steps": 1, "metrics": {"fid": 99.0}}))


def folder_bytes(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def sweep_folder(tmp_path):
    """A sweep folder of GRID whose two runs finished at image size 32, with bce, l1/l2."""
    grid = tmp_path / "grid.toml"
    grid.write_text(GRID)
    out = tmp_path / "sweep"
    common = ["--image-size", "32", "--base-filters", "8", "--epochs", "1",
              "--steps-per-epoch", "1"]
    finished_run(out / "runs" / "l1", common)
    finished_run(out / "runs" / "l2", [*common, "--recon-loss", "l2"])
    return grid, out


def test_the_same_options_count_as_finished_and_results_show_the_recorded_ones(sweep_folder):
    grid, out = sweep_folder
    sweep = Sweep(load_grid(grid), str(out))
    assert [difference(sweep.options(run), sweep.run_dir(run))
            for run in sweep.runs()] == [None, None]
    sweep.write_results()
    with open(out / "results.csv", newline="") as f:
        rows = {row["variant"]: row for row in csv.DictReader(f)}
    assert rows["l2"]["option.recon-loss"] == "l2"
    # "auto" is recorded as the precision the recipe chose; results.csv shows that one.
    recorded = pix2pix.parse_args(["--precision", "auto"]).precision
    assert rows["l1"]["option.precision"] == recorded != "auto"


@pytest.mark.parametrize("change, message", [
    (["--set", "epochs=2"], "sweep variant l1: {out}/runs/l1 was trained with epochs = 1, "
     "the grid and --set now give epochs = 2 (1 more variants differ)"),
    (["--set", "gan-loss=lsgan", "--set", "image-size=64"], "was trained with image-size = 32, the grid and --set now give "
     "image-size = 64"),
    (["--set", "no-skip=true"], "was trained with no-skip = false, the grid and --set now "
     "give no-skip = true"),
    (["--set", "recon_loss=l2"], "sweep variant l1: {out}/runs/l1 was trained with "
     "recon-loss = 'l1', the grid and --set now give recon-loss = 'l2': rerun"),
])
def test_a_run_trained_with_other_options_is_refused_and_nothing_written(sweep_folder,
                                                                         change, message):
    grid, out = sweep_folder
    before = folder_bytes(out)
    with pytest.raises(ConfigError, match="--retrain-changed") as error:
        sweep_main([str(grid), "--out", str(out), *change])
    assert message.format(out=out) in str(error.value)
    assert "\n" not in str(error.value)
    assert folder_bytes(out) == before


def test_an_evaluated_run_without_config_is_not_counted_as_finished(sweep_folder):
    grid, out = sweep_folder
    (out / "runs" / "l2" / "config.toml").unlink()
    with pytest.raises(ConfigError, match="runs/l2 is evaluated but has no config.toml"):
        sweep_main([str(grid), "--out", str(out)])


def test_retrain_changed_moves_the_run_aside_and_trains_the_variant_again(sweep_folder):
    grid, out = sweep_folder
    grid.write_text(GRID + "recon-mix = 0.25\n")  # l2 changed, l1 stays finished
    old = folder_bytes(out / "runs" / "l2")
    result = subprocess.run(
        [sys.executable, "-m", "kgan.sweep", str(grid), "--out", str(out), "--retrain-changed",
         "--eval-images", "4", "--qualitative", "1"],
        capture_output=True, text=True, timeout=900)
    assert f"l2: trained with recon-mix = 0.5, not 0.25: moved to {out}/replaced/l2.1" \
        in result.stdout, result.stdout + result.stderr[-2000:]
    assert folder_bytes(out / "replaced" / "l2.1") == old
    assert "recon-mix = 0.25" in (out / "runs" / "l2" / "config.toml").read_text()
    with open(out / "results.csv", newline="") as f:
        rows = {row["variant"]: row for row in csv.DictReader(f)}
    assert rows["l2"]["option.recon-mix"] == "0.25" and rows["l2"]["status"] == "done"
    assert rows["l1"]["fid"] == "99.0"  # finished with its options: not trained again
