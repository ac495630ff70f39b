"""The sweep report's figures: training-loss curves and the qualitative image grid.

Both read the sweep folder that `kgan.sweep` wrote (see `kgan.sweep.report` for its layout),
write a PNG and return its caption, or None when the sweep has nothing to draw. matplotlib is
imported inside the figure functions only, and only `matplotlib.figure.Figure` (no pyplot, so
no GUI backend is chosen), so that importing this module or the report's table needs none of it.
"""

import csv
import json
import os
import re
import textwrap

from kgan.atomic import atomic_path
from kgan.run_folder import MODEL
from kgan.sweep.results_table import number

# The four training-loss panels: the `CURVES` panel a model declares (kgan.models.base) and
# the title. Each run's RUN/model.json says which of its log keys each panel draws.
LOSS_PANELS = (
    ("discriminator", "Discriminator loss"),
    ("reconstruction", "Generator reconstruction loss"),
    ("adversarial", "Generator GAN loss"),
    ("total", "Generator total loss"),
)
# The keys of run folders of an older kgan, written before model.json declared them: the
# first of a panel's keys that the run logged is drawn.
OLDER_CURVES = {"discriminator": ("d_loss",), "reconstruction": ("g_recon", "g_cycle", "g_nce"),
                "adversarial": ("g_adv",), "total": ("g_loss",)}
# Per-step curves longer than this are drawn as a running mean over 1/SMOOTHING of the run.
SMOOTHING = 100


def variant_run(sweep_dir, name):
    """The run folder the figures show for a variant: runs/<name>/, or with seeds its
    lowest seed's runs/<name>/seed<S>/."""
    folder = os.path.join(sweep_dir, "runs", name)
    try:
        seeds = [entry for entry in os.listdir(folder) if re.fullmatch(r"seed\d+", entry)]
    except FileNotFoundError:
        return folder
    return os.path.join(folder, min(seeds, key=lambda s: int(s[4:]))) if seeds else folder


def _read_curves(run_dir, unit):
    """`(x, {key: [float or nan]})` of a run's steps.csv (unit "step") or history.csv
    ("epoch"), or None when the file is absent; rows without an x value are skipped."""
    try:
        with open(os.path.join(run_dir, "steps.csv" if unit == "step" else "history.csv"),
                  newline="") as f:
            records = [r for r in csv.DictReader(f) if number(r.get(unit)) is not None]
    except FileNotFoundError:
        return None
    nan = float("nan")
    columns = {key: [nan if number(r.get(key)) is None else number(r[key]) for r in records]
               for key in (records[0] if records else ()) if key != unit}
    return [number(r[unit]) for r in records], columns


def panel_keys(run_dir, logged):
    """{panel: the log key a run draws there, or None}: its model.json's `curves` (else, for
    an older run folder, the first of `OLDER_CURVES` it logged), among the `logged` keys."""
    try:
        with open(os.path.join(run_dir, MODEL)) as f:
            declared = {panel: (key,) for panel, key in json.load(f)["curves"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        declared = OLDER_CURVES
    return {panel: next((k for k in declared.get(panel, ()) if k in logged), None)
            for panel, _ in LOSS_PANELS}


def _smooth(x, y, window):
    """Running mean of `y` over `window` points, ignoring NaN; x trimmed to match."""
    import numpy as np

    y = np.asarray(y, dtype=float)
    valid = ~np.isnan(y)
    kernel = np.ones(window)
    sums = np.convolve(np.where(valid, y, 0.0), kernel, "valid")
    counts = np.convolve(valid.astype(float), kernel, "valid")
    with np.errstate(invalid="ignore", divide="ignore"):
        return list(x[window - 1:]), np.where(counts > 0, sums / counts, np.nan)


def loss_figure(sweep_dir, names, path):
    """Four panels (one per loss) with a line per variant, written as a PNG to `path`.

    One panel per loss, not one figure per variant: the sweep asks how variants differ, and a
    shared axis shows at a glance which discriminator wins or which generator stalls. With
    seeds, each variant's lowest seed is drawn.

    Returns:
        str: the caption, or None when no variant has a history (nothing written).
    """
    def run(name):
        return variant_run(sweep_dir, name)

    logged = {n: {f for f in ("steps.csv", "history.csv") if os.path.isfile(
        os.path.join(run(n), f))} for n in names}
    # Per-step curves only when every run has them: one x axis for all lines.
    unit = "step" if all("steps.csv" in files for files in logged.values() if files) and any(
        logged.values()) else "epoch"
    curves = {n: c for n in names if (c := _read_curves(run(n), unit)) is not None and c[0]}
    if not curves:
        return None
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    longest = max(len(x) for x, _ in curves.values())
    window = max(1, longest // SMOOTHING) if unit == "step" and longest > 2 * SMOOTHING else 1
    figure = Figure(figsize=(12, 8), layout="constrained")
    axes = figure.subplots(2, 2, sharex=True).ravel()
    colors = _colors(len(names))
    keys = {name: panel_keys(run(name), columns) for name, (_, columns) in curves.items()}
    for ax, (panel, title) in zip(axes, LOSS_PANELS):
        used = []
        for name, (x, columns) in curves.items():
            key = keys[name][panel]
            if key is None:
                continue
            used += [key] if key not in used else []
            xs, ys = _smooth(x, columns[key], window) if window > 1 else (x, columns[key])
            ax.plot(xs, ys, label=name, color=colors[names.index(name)][0],
                    linestyle=colors[names.index(name)][1], linewidth=1.4,
                    marker="o" if len(xs) <= 30 else None, markersize=3)
        ax.set_title(f"{title} ({' / '.join(used) or 'not logged'})", fontsize=11)
        ax.grid(alpha=0.3)
    for ax in axes[2:]:
        ax.set_xlabel(unit)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    legend = {}  # a variant may lack some panels' keys: take its line from any panel
    for ax in axes:
        legend.update(zip(*reversed(ax.get_legend_handles_labels())))
    labels = [n for n in names if n in legend]
    figure.legend([legend[n] for n in labels], labels, loc="outside lower center",
                  ncols=min(len(labels), 6), frameon=False)
    _save(figure, path)
    missing = [n for n in names if n not in curves]
    caption = (f"Training losses per {unit}" + (f", running mean over {window} steps"
                                                 if window > 1 else "")
               + ", one line per variant." + (f" No history: {', '.join(missing)}."
                                              if missing else ""))
    return caption


def _colors(count):
    """(color, linestyle) per variant: tab10 up to 10 variants, then tab20 and dashes."""
    from matplotlib import colormaps

    cmap, size = (colormaps["tab10"], 10) if count <= 10 else (colormaps["tab20"], 20)
    return [(cmap(i % size), ("-", "--", ":")[i // size % 3]) for i in range(count)]


def _save(figure, path):
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=100)


def _numbered_pngs(folder):
    try:
        return sorted(f for f in os.listdir(folder) if f.endswith(".png"))
    except FileNotFoundError:
        return []


def qualitative_figure(sweep_dir, names, path, tile_inches=1.6):
    """Rows = test examples; columns = input, each variant's output, ground truth.

    A variant without an image (it failed) gets a grey tile. Every tile is shown at the size
    of the input images.

    Returns:
        str: the caption, or None when the sweep has no qualitative inputs (nothing written).
    """
    from matplotlib.figure import Figure
    from PIL import Image

    folder = os.path.join(sweep_dir, "qualitative")
    examples = _numbered_pngs(os.path.join(folder, "inputs"))
    if not examples:
        return None
    has_targets = bool(_numbered_pngs(os.path.join(folder, "targets")))
    columns = [("Input", os.path.join(folder, "inputs"))]
    columns += [(n, os.path.join(variant_run(sweep_dir, n), "qualitative")) for n in names]
    columns += [("Ground truth", os.path.join(folder, "targets"))] if has_targets else []
    size = Image.open(os.path.join(folder, "inputs", examples[0])).size
    figure = Figure(figsize=(tile_inches * len(columns), tile_inches * len(examples) + 0.4),
                    layout="constrained")
    axes = figure.subplots(len(examples), len(columns), squeeze=False)
    missing = set()
    for row, example in enumerate(examples):
        for col, (label, column_dir) in enumerate(columns):
            ax = axes[row, col]
            image = _tile(os.path.join(column_dir, example), size)
            if image is None:
                missing.add(label)
                ax.imshow(Image.new("RGB", size, (160, 160, 160)))
                ax.text(0.5, 0.5, "no image", transform=ax.transAxes, ha="center",
                        va="center", color="white", fontsize=9)
            else:
                ax.imshow(image)
            ax.set_axis_off()
            if row == 0:
                ax.set_title(textwrap.fill(label, 16), fontsize=10,
                             weight="bold" if col == 0 else "normal")
    _save(figure, path)
    caption = (f"{len(examples)} test examples: input, each variant's output"
               + (", ground truth." if has_targets else " (unpaired data: no ground truth)."))
    return caption + (f" Grey: no image ({', '.join(sorted(missing))})." if missing else "")


def _tile(path, size):
    from PIL import Image

    try:
        with Image.open(path) as image:
            return image.convert("RGB").resize(size) if image.size != size else image.convert("RGB")
    except FileNotFoundError:
        return None
