"""A synthetic sweep folder, laid out as `python -m kgan.sweep` writes it, without training.

A module of its own (not conftest.py) so that tests can import its helpers and constants.
"""

import csv
import math

import numpy as np
from PIL import Image

PIX2PIX_GRID = {
    "recipe": "pix2pix",
    "title": "pix2pix on facades, synthetic",
    "base": {"dataset": "facades", "epochs": 5},
    "variants": {"l1": {}, "l2": {"recon-loss": "l2"}, "patch16": {"patch": 16},
                 "no-skip": {"no-skip": True}},
    # no-skip has no published numbers; l2 is the paper's worst FID but kgan's middle one.
    "published": {"l1": {"precision": 0.76, "recall": 0.39, "fid": 110.7},
                  "l2": {"precision": 0.64, "recall": 0.26, "fid": 118.8},
                  "patch16": {"precision": 0.76, "recall": 0.29, "fid": 116.5}},
}
# kgan's numbers: l1 best FID and precision, patch16 best recall; no-skip failed.
PIX2PIX_METRICS = {
    "l1": {"precision": 0.7012, "recall": 0.3, "fid": 120.04, "psnr": 14.5, "ssim": 0.31},
    "l2": {"precision": 0.6, "recall": 0.2, "fid": 130.5, "psnr": 15.25, "ssim": 0.29},
    "patch16": {"precision": 0.65, "recall": 0.4, "fid": 140.0, "psnr": 13.0, "ssim": 0.25},
}
EXAMPLES = 3


def write_csv(path, rows):
    columns = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, columns, restval="")
        writer.writeheader()
        writer.writerows(rows)


def results_rows(grid, metrics):
    """results.csv rows: a variant without metrics failed with a one-line error."""
    rows = []
    for name, overrides in grid["variants"].items():
        done = name in metrics
        row = {"variant": name, "status": "done" if done else "failed",
               "error": "" if done else "ResourceExhaustedError: OOM when allocating tensor",
               "seconds": 600.4 if done else "", "steps": 2000 if done else ""}
        row.update({f"option.{k}": v for k, v in {**grid["base"], **overrides}.items()})
        row.update(metrics.get(name, {}))
        if done:
            row.update(seconds_per_step=0.3, peak_memory_mb=2048.0)
        rows.append(row)
    return rows


def _history(run_dir, index, epochs=5, steps=0):
    """history.csv (epoch, sorted keys; NA in the first epoch's g_adv) and optional steps.csv."""
    def losses(t):
        return {"d_loss": 0.7 - 0.02 * index + 0.05 * math.sin(t), "g_adv": 1.0 + 0.1 * index,
                "g_loss": 20.0 - t + index, "g_recon": 0.2 - 0.01 * t + 0.01 * index}

    rows = [{"epoch": e, **losses(e)} for e in range(epochs)]
    rows[0]["g_adv"] = "NA"
    write_csv(run_dir / "history.csv", [dict(sorted(r.items())) for r in rows])
    if steps:
        write_csv(run_dir / "steps.csv",
                  [{"step": s, **losses(s * epochs / steps)} for s in range(steps)])


def _image(path, rng, size=32):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(path)


def make_sweep(folder, grid=PIX2PIX_GRID, metrics=PIX2PIX_METRICS, steps=0, targets=True):
    """Write results.csv, runs/<variant>/ and qualitative/ for `grid` into `folder`.

    Variants named in `metrics` are done (history, qualitative outputs); the others failed
    with no files. With `steps`, each done run also has a steps.csv of that many rows.
    """
    rng = np.random.default_rng(0)
    write_csv(folder / "results.csv", results_rows(grid, metrics))
    for example in range(EXAMPLES):
        _image(folder / "qualitative" / "inputs" / f"{example:02d}.png", rng)
        if targets:
            _image(folder / "qualitative" / "targets" / f"{example:02d}.png", rng)
    for index, name in enumerate(grid["variants"]):
        if name in metrics:
            _history(folder / "runs" / name, index, steps=steps)
            for example in range(EXAMPLES):
                _image(folder / "runs" / name / "qualitative" / f"{example:02d}.png", rng)
    return folder
