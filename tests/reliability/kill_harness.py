"""Kill training runs at random moments and check that the reruns end as one run would.

For each recipe, one uninterrupted reference run is trained; then trials: a run is started
in a fresh folder, SIGKILLed at a random moment (seeded), rerun, killed again... up to
`--kills-per-trial` times, then rerun to the end. After every kill and at the end the
harness checks the run folder's invariants (`check_killed`, `check_finished`):

- after a kill: the folder is absent or holds config.toml, and its lock is free;
- at the end: exit 0, history.csv holds the epochs 0..N-1 once each, in order,
  samples/epoch_001.png.. one per epoch, config.toml, no broken_* checkpoint and no `.tmp-*`
  leftover, the lock free, and the final generators' weights equal (max abs diff 0) to the
  reference run's.

Two thirds of the kills fall while training (a uniform delay after config.toml appears, up
to the reference's training time), the rest during start-up. Usage, from the repository
root (about 30 s per pix2pix kill and 60 s per CycleGAN kill on 2 busy CPU cores):

    PYTHONPATH=$PWD python tests/reliability/kill_harness.py --kills 100 --work /tmp/kills

The data is ../shared/datasets (facades, horse2zebra) beside the checkout, or the folder
`KGAN_DATASETS` names.

Exit status 0 when no invariant was violated; a JSON summary is the last line printed.
"""

import argparse
import csv
import fcntl
import io
import json
import os
import random
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import h5py
import numpy as np

REPO = Path(__file__).resolve().parents[2]
DATASETS = Path(os.environ.get("KGAN_DATASETS", REPO.parent / "shared" / "datasets"))
TINY = ["--image-size", "32", "--base-filters", "8", "--batch-size", "2",
        "--steps-per-epoch", "3", "--samples", "2", "--checkpoint-steps", "2"]
# Checkpoints at steps 2, 3 (an epoch's end), 4, 6 (the end, not a step one), 8, 9.
RECIPES = {
    # recipe -> (epochs, extra arguments, data folder, final generators)
    "pix2pix": (3, ["--patch", "16"], "facades", ["generator"]),
    "cyclegan": (2, ["--generator", "resnet6", "--patch", "16", "--pool-size", "2"],
                 "horse2zebra", ["generator_ab", "generator_ba"]),
}
RUN_TIMEOUT = 600


def command(recipe, out):
    """The `python -m kgan.recipes.<recipe>` command line of a tiny run into `out`."""
    epochs, extra, data, _ = RECIPES[recipe]
    return [sys.executable, "-m", f"kgan.recipes.{recipe}", "--data-dir", str(DATASETS / data),
            *TINY, "--epochs", str(epochs), *extra, "--out", str(out)]


def start(recipe, out, log):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CI": "1"}
    return subprocess.Popen(command(recipe, out), cwd=REPO, env=env, stdout=log,
                            stderr=subprocess.STDOUT)


def reference_run(recipe, out, log):
    """Train the uninterrupted run; returns (seconds to config.toml, seconds of training)."""
    began = time.monotonic()
    process, configured = start(recipe, out, log), None
    while process.poll() is None:
        if configured is None and (out / "config.toml").exists():
            configured = time.monotonic() - began
        time.sleep(0.05)
    if process.returncode != 0:
        raise SystemExit(f"the reference run of {recipe} failed (exit {process.returncode}); "
                         f"see {log.name}")
    total = time.monotonic() - began
    return configured or total / 2, total - (configured or total / 2)


def lock_is_free(out):
    """Whether no process holds the run folder's lock (kgan.run_folder.lock)."""
    if not out.is_dir():
        return True
    fd = os.open(out, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def generator_weights(path):
    """The arrays of a `.keras` file's model.weights.h5, by their HDF5 path."""
    with zipfile.ZipFile(path) as archive:
        data = archive.read("model.weights.h5")
    arrays = {}
    with h5py.File(io.BytesIO(data), "r") as f:
        f.visititems(lambda name, obj: arrays.__setitem__(name, obj[()])
                     if isinstance(obj, h5py.Dataset) else None)
    return arrays


def max_weight_difference(run, reference, names):
    """The largest absolute difference between the two runs' final generators."""
    worst = 0.0
    for name in names:
        ours, theirs = (generator_weights(folder / f"{name}.keras") for folder in (run, reference))
        if ours.keys() != theirs.keys():
            return float("inf")
        for key, value in ours.items():
            if value.shape != theirs[key].shape:
                return float("inf")
            if value.size:
                worst = max(worst, float(np.max(np.abs(value.astype(np.float64)
                                                       - theirs[key].astype(np.float64)))))
    return worst


def config_stamp(out):
    """What tells a (re)written config.toml: its inode and modification time (or None)."""
    try:
        stat = os.stat(out / "config.toml")
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_mtime_ns


def check_killed(out):
    """The invariants right after a kill: a list of violations."""
    problems = []
    if out.exists() and not (out / "config.toml").exists():
        problems.append(f"{out} left without config.toml: {sorted(os.listdir(out))}")
    if not lock_is_free(out):
        problems.append(f"{out} still locked after the kill")
    return problems


def check_finished(out, reference, recipe, status):
    """The invariants of a finished run: a list of violations."""
    if status != 0:
        return [f"{out}: the last rerun exited {status}"]
    problems = []
    total = RECIPES[recipe][0]
    with open(out / "history.csv", newline="") as f:
        epochs = [row["epoch"] for row in csv.DictReader(f)]
    if epochs != [str(epoch) for epoch in range(total)]:
        problems.append(f"{out}: history.csv epochs {epochs}")
    samples = sorted(os.listdir(out / "samples"))
    if samples != [f"epoch_{epoch:03d}.png" for epoch in range(1, total + 1)]:
        problems.append(f"{out}: samples {samples}")
    if not (out / "config.toml").exists():
        problems.append(f"{out}: no config.toml")
    leftovers = [p.name for folder in (out, out / "checkpoints", out / "samples")
                 for p in folder.iterdir() if p.name.startswith((".tmp-", "broken_"))]
    if leftovers:
        problems.append(f"{out}: leftovers {leftovers}")
    if not lock_is_free(out):
        problems.append(f"{out}: still locked")
    difference = max_weight_difference(out, reference, RECIPES[recipe][3])
    if difference != 0:
        problems.append(f"{out}: final weights differ from the uninterrupted run by {difference}")
    return problems


def trial(recipe, out, reference_times, kills, rng, log):
    """Run into `out`, killing up to `kills` times; returns (kills made, violations)."""
    startup, training, reference = reference_times
    made, problems = 0, []
    while True:
        recorded = config_stamp(out)
        process = start(recipe, out, log)
        if made == kills:
            status = process.wait(RUN_TIMEOUT)
            return made, problems + check_finished(out, reference, recipe, status)
        began = time.monotonic()
        if rng.random() < 1 / 3:
            deadline, moment = began + rng.uniform(0, startup), "start-up"
        else:
            # Training starts once the run (re)writes config.toml.
            while process.poll() is None and config_stamp(out) == recorded:
                time.sleep(0.02)
            deadline, moment = time.monotonic() + rng.uniform(0, training), "training"
        while process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        if process.poll() is not None:  # finished before the kill moment
            if process.returncode != 0:
                problems.append(f"{out}: a rerun exited {process.returncode}")
            return made, problems + check_finished(out, reference, recipe, process.returncode)
        process.send_signal(signal.SIGKILL)
        process.wait()
        made += 1
        found = check_killed(out)
        print(f"{recipe} {out.name}: kill {made} at {time.monotonic() - began:.2f} s "
              f"({moment}){': ' + '; '.join(found) if found else ''}", flush=True)
        problems += found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=100, help="total kill moments (default 100)")
    parser.add_argument("--kills-per-trial", type=int, default=3)
    parser.add_argument("--recipes", nargs="+", default=list(RECIPES), choices=list(RECIPES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", type=Path, required=True, help="a new folder for the runs")
    options = parser.parse_args(argv)
    options.work.mkdir(parents=True, exist_ok=False)
    rng = random.Random(options.seed)
    log = open(options.work / "runs.log", "w")
    references = {}
    for recipe in options.recipes:
        reference = options.work / recipe / "reference"
        references[recipe] = (*reference_run(recipe, reference, log), reference)
        print(f"{recipe}: reference run, {references[recipe][0]:.1f} s start-up, "
              f"{references[recipe][1]:.1f} s training", flush=True)
    made, violations, trials = 0, [], 0
    while made < options.kills:
        recipe = options.recipes[trials % len(options.recipes)]
        out = options.work / recipe / f"trial_{trials:03d}"
        kills = min(options.kills_per_trial, options.kills - made)
        count, problems = trial(recipe, out, references[recipe], kills, rng, log)
        made, trials = made + count, trials + 1
        violations += problems
        print(f"{recipe} {out.name}: finished after {count} kill(s)"
              f"{': ' + '; '.join(problems) if problems else ', invariants hold'}", flush=True)
    print(json.dumps({"kills": made, "trials": trials, "violations": violations}))
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
