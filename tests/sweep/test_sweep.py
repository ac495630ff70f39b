"""python -m kgan.sweep end to end: two tiny bluemarble variants, a SIGKILL, a rerun."""

import csv
import math
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from kgan.errors import ConfigError
from kgan.sweep.grid import load_grid
from kgan.sweep.runner import Sweep, recipe_arguments

REPO = str(Path(__file__).resolve().parents[2])
TINY_GRID = """
recipe = "pix2pix"
title = "two tiny bluemarble variants"
[base]
image-size = 32
base-filters = 8
batch-size = 4
norm = "instance"
epochs = 4
steps-per-epoch = 4
samples = 2
[variants.l1]
[variants.l2]
recon-loss = "l2"
[published.l1]
fid = 110.7
"""


def sweep_command(grid, out):
    return [sys.executable, "-m", "kgan.sweep", str(grid), "--out", str(out),
            "--eval-images", "8", "--qualitative", "2"]


def training_attempts(log):
    with open(log) as f:
        return sum(" -m kgan.recipes." in line for line in f if line.startswith("$ "))


def kill_when(process, condition, timeout):
    """SIGKILL the process group of `process` as soon as `condition()` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, "the sweep ended before it could be killed"
        assert time.monotonic() < deadline, "the kill condition never held"
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@pytest.mark.slow
def test_a_killed_sweep_resumes_without_retraining_finished_variants(tmp_path):
    grid = tmp_path / "grid.toml"
    grid.write_text(TINY_GRID)
    out = tmp_path / "sweep"
    first = subprocess.Popen(sweep_command(grid, out), start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Killed once the second variant has checkpointed an epoch, mid-run.
    kill_when(first, lambda: (out / "runs" / "l2" / "checkpoints" / "state.json").exists(), 600)
    assert not (out / "runs" / "l2" / "evaluation.json").exists()
    finished = (out / "runs" / "l1" / "evaluation.json").stat().st_mtime_ns

    rerun = subprocess.run(sweep_command(grid, out), capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert "1 already finished" in rerun.stdout

    with open(out / "results.csv", newline="") as f:
        rows = {row["variant"]: row for row in csv.DictReader(f)}
    assert sorted(rows) == ["l1", "l2"]
    for row in rows.values():
        assert row["status"] == "done"
        for metric in ("fid", "precision", "recall", "psnr", "ssim"):
            assert math.isfinite(float(row[metric])), (row["variant"], metric)
    assert rows["l2"]["option.recon-loss"] == "l2"

    # The finished variant was neither retrained nor re-evaluated; the killed one resumed.
    assert training_attempts(out / "logs" / "l1.log") == 1
    assert (out / "runs" / "l1" / "evaluation.json").stat().st_mtime_ns == finished
    assert training_attempts(out / "logs" / "l2.log") == 2
    assert "resuming" in (out / "logs" / "l2.log").read_text()

    figures = list((out / "figures").glob("*.png"))
    assert {path.name for path in figures} == {"losses.png", "qualitative.png"}
    for path in figures:
        with Image.open(path) as image:
            image.verify()
    assert "110.7" in (out / "report.md").read_text()
    assert (out / "report.html").read_text().count("data:image/png;base64,") == 2


def test_a_failing_variant_is_reported_and_the_others_run(tmp_path):
    grid = tmp_path / "grid.toml"
    grid.write_text(TINY_GRID.replace('recon-loss = "l2"', 'recon-loss = "l3"').replace(
        "epochs = 4", "epochs = 1").replace("steps-per-epoch = 4", "steps-per-epoch = 1"))
    out = tmp_path / "sweep"
    result = subprocess.run(sweep_command(grid, out), capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 1
    assert "1 failed: l2" in result.stdout
    with open(out / "results.csv", newline="") as f:
        rows = {row["variant"]: row for row in csv.DictReader(f)}
    assert rows["l1"]["status"] == "done" and math.isfinite(float(rows["l1"]["fid"]))
    assert rows["l2"]["status"] == "failed"
    assert "--recon-loss" in rows["l2"]["error"] and "l3" in rows["l2"]["error"]
    assert "failed" in (out / "report.md").read_text()


def test_recipe_arguments_turn_options_into_flags():
    assert recipe_arguments({"no-skip": True, "augment-on-device": False, "patch": 16,
                             "recon-loss": "l1+l2"}) == [
        "--no-skip", "--patch", "16", "--recon-loss", "l1+l2"]


@pytest.mark.parametrize("text, message", [
    ('recipe = "pix2pix"\n', "no [variants.NAME] tables"),
    ('recipe = "pix2pix"\n[variants."a/b"]\n', "variant name"),
    ('recipe = "pix2pix"\n[variants.a]\nout = "x"\n', "set by the sweep"),
    ('recipe = "pix2pix"\n[variants.a]\n[published.b]\nfid = 1\n', "names no variant"),
    ('recipe = "pix2pix"\nsteps = 3\n[variants.a]\n', "unknown key 'steps'"),
    ("recipe = \n", "not valid TOML"),
    ('recipe = "pix2pix"\n[variants.a]\nrecon_loss = "l1"\nrecon-loss = "l2"\n',
     "[variants.a] sets recon-loss twice, as 'recon_loss' and 'recon-loss'"),
    ('recipe = "pix2pix"\n[base]\nimage-size = 32\nimage_size = 64\n[variants.a]\n',
     "[base] sets image-size twice"),
])
def test_bad_grids_are_one_line_errors(tmp_path, text, message):
    path = tmp_path / "grid.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=re.escape(message)) as error:
        load_grid(path)
    assert "\n" not in str(error.value)


def test_every_shipped_grid_loads_and_names_known_recipes():
    recipes_dir = os.path.join(os.path.dirname(__file__), "..", "..", "recipes")
    grids = [name for name in os.listdir(recipes_dir) if name.startswith("study_")]
    assert len(grids) >= 9
    for name in grids:
        grid = load_grid(os.path.join(recipes_dir, name))
        for recipe in grid["recipes"].values():
            assert os.path.exists(os.path.join(os.path.dirname(__file__), "..", "..", "kgan",
                                               "recipes", f"{recipe}.py")), (name, recipe)


@pytest.mark.parametrize("text, message", [
    ('recipe = "pix2pix"\nprotocol = "test"\n[variants.a]\n', "protocol must be one of"),
    ('recipe = "pix2pix"\nseeds = [0, 0]\n[variants.a]\n', "seeds must be a list of distinct"),
    ('recipe = "pix2pix"\nseeds = 3\n[variants.a]\n', "seeds must be a list of distinct"),
    ('recipe = "pix2pix"\n[base]\nprotocol = "paper"\n[variants.a]\n',
     "base.protocol is a setting of the whole grid"),
    ('recipe = "pix2pix"\n[variants.a]\nseeds = 1\n', "variants.a.seeds is a setting of"),
    ('recipe = "pix2pix"\nseeds = [1]\n[variants.a]\nseed = 2\n', "seeds and a.seed both"),
])
def test_bad_protocol_and_seeds_are_one_line_errors(tmp_path, text, message):
    path = tmp_path / "grid.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_grid(path)


def test_seeds_give_a_run_folder_per_seed_and_the_seed_option(tmp_path):
    path = tmp_path / "grid.toml"
    path.write_text('recipe = "pix2pix"\nprotocol = "paper"\nseeds = [3, 1]\n'
                    '[base]\ndataset = "facades"\n[variants.a]\n[variants.b]\npatch = 16\n')
    grid = load_grid(path)
    assert (grid["protocol"], grid["seeds"]) == ("paper", [3, 1])
    sweep = Sweep(grid, str(tmp_path / "out"))
    assert [run.name for run in sweep.runs()] == ["a/seed3", "a/seed1", "b/seed3", "b/seed1"]
    run = sweep.runs()[3]
    assert sweep.run_dir(run) == str(tmp_path / "out" / "runs" / "b" / "seed1")
    assert sweep.options(run) == {"dataset": "facades", "patch": 16, "seed": 1}
    # --seeds replaces the grid's; without any, runs/<variant>/ as before seeds existed.
    assert [r.name for r in Sweep(grid, "o", seeds=[7]).runs()] == ["a/seed7", "b/seed7"]
    unseeded = Sweep(dict(grid, seeds=None), "o")
    assert unseeded.run_dir(unseeded.runs()[0]) == os.path.join("o", "runs", "a")
    assert "seed" not in unseeded.options(unseeded.runs()[0])


def test_a_data_dir_on_the_command_line_replaces_the_grids_dataset(tmp_path):
    grid = load_grid(os.path.join(REPO, "recipes", "study_pix2pix_facades_cpu.toml"))
    assert grid["base"]["dataset"] == "facades"
    sweep = Sweep(grid, str(tmp_path), {"data-dir": "../shared/datasets/facades"})
    options = sweep.options(sweep.runs()[0])
    assert options["data-dir"] == "../shared/datasets/facades" and "dataset" not in options
    argv = recipe_arguments(options)
    assert "--dataset" not in argv and argv[argv.index("--data-dir") + 1].endswith("facades")
    assert Sweep(grid, str(tmp_path)).options(sweep.runs()[0])["dataset"] == "facades"


def test_cpu_grids_name_data_sets_and_run_three_seeds():
    for name in ("study_pix2pix_facades_cpu", "study_pix2pix_bluemarble_cpu",
                 "study_cyclegan_horse2zebra_cpu", "study_cut_horse2zebra_cpu"):
        path = os.path.join(REPO, "recipes", f"{name}.toml")
        grid = load_grid(path)
        assert "data-dir" not in grid["base"] and grid["base"]["dataset"], name
        assert grid["seeds"] == [0, 1, 2] and grid["protocol"] == "inference", name
        assert "../shared" not in open(path).read(), name
    for name in ("facades", "maps", "cityscapes"):
        grid = load_grid(os.path.join(REPO, "recipes", f"study_pix2pix_{name}.toml"))
        assert grid["protocol"] == "paper", name
