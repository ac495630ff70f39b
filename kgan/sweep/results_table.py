"""The study's results table and orderings, computed from results.csv's rows (no matplotlib).

results.csv has one row per run; a variant trained with several seeds has several. Per
variant the table shows the mean over its finished runs, `± sd` over seeds, and for FID the
interval of its sampling error over the test images (`fid_low`, `fid_high`, a bootstrap,
widened to cover every seed's). The orderings rank variants by their means but state an order
between two variants only where their noise ranges do not overlap: FID's interval (over
seeds: from the lowest run's low to the highest run's high), for other metrics the min-max
over seeds. A metric with one run per variant and no interval has no noise estimate, so no
order is stated.
"""

import collections
import math

import numpy as np

from kgan.metrics import registry

# Costs are shown but never ranked: key -> (label, format).
COSTS = {
    "seconds": ("Time (s)", "{:.0f}"),
    "seconds_per_step": ("s/step", "{:.3f}"),
    "peak_memory_mb": ("Peak memory (MB)", "{:.0f}"),
}
BEST_PREFIX = "best."

Cell = collections.namedtuple("Cell", "text bold span failed", defaults=(False, 1, False))
Cell.__doc__ = ("A table cell: `text`, whether it is the best of its column, the columns it "
                "spans, whether it says why a variant has no results.")
Table = collections.namedtuple("Table", "headers rows")
Table.__doc__ = "`headers`: list of str; `rows`: list of lists of `Cell` (spans add up)."
Summary = collections.namedtuple("Summary", "mean spread runs noise interval")
Summary.__doc__ = ("One metric of one variant: `mean` over its finished runs, `spread` (sd over "
                   "seeds, None for one run), `runs` (values), `noise` ((low, high) range or "
                   "None), `interval` (whether `noise` includes a bootstrap interval).")


def number(value):
    """A CSV value as a finite float, or None (empty, NA, nan, inf, not a number)."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def metric_keys():
    """Every metric column key in table order: the paired study's (P, R, FID, KID, PSNR,
    SSIM), then the unpaired ones with the distances (FID, KID) of both directions first."""
    directed = registry.directed_keys()
    distances = [k for k in directed if registry.lookup(k).better == "lower"]
    return registry.keys() + distances + [k for k in directed if k not in distances]


def metric(key):
    """The registry's `Metric` of a results.csv key, `best.` keys labelled "..., best epoch"."""
    if key.startswith(BEST_PREFIX):
        found = registry.lookup(key[len(BEST_PREFIX):])
        return found and found._replace(key=key, label=f"{found.label}, best epoch")
    return registry.lookup(key)


def _interval_keys(key):
    """(low, high) columns of a metric's bootstrap interval: fid -> fid_low, fid_high;
    fid_ab -> fid_low_ab, ...; best.fid -> best.fid_low, ..."""
    prefix = BEST_PREFIX if key.startswith(BEST_PREFIX) else ""
    base, _, direction = key[len(prefix):].partition("_")
    suffix = f"_{direction}" if direction else ""
    return tuple(f"{prefix}{base}_{end}{suffix}" for end in ("low", "high"))


def variant_names(rows, grid):
    """Variants in grid order, then any that only results.csv names."""
    names = list(grid.get("variants", {}))
    return names + list(dict.fromkeys(r["variant"] for r in rows if r["variant"] not in names))


def runs_by_variant(rows):
    """variant -> its rows (runs), in file order."""
    runs = collections.defaultdict(list)
    for row in rows:
        runs[row["variant"]].append(row)
    return runs


def done_runs(runs):
    return [row for row in runs if row.get("status") == "done"]


def summarize(runs, key):
    """The `Summary` of one metric over a variant's finished runs, or None without values."""
    finished = [row for row in done_runs(runs) if number(row.get(key)) is not None]
    values = [number(row[key]) for row in finished]
    if not values:
        return None
    spread = float(np.std(values, ddof=1)) if len(values) > 1 else None
    low_key, high_key = _interval_keys(key)
    lows = [number(row.get(low_key)) for row in finished]
    highs = [number(row.get(high_key)) for row in finished]
    if None not in lows + highs:
        noise, interval = (min(lows + values), max(highs + values)), True
    else:
        noise, interval = ((min(values), max(values)) if len(values) > 1 else None), False
    return Summary(float(np.mean(values)), spread, values, noise, interval)


def summary_text(summary, fmt):
    """"mean", "mean ± sd" over seeds, then "[low, high]" for a bootstrap interval."""
    text = fmt.format(summary.mean)
    if summary.spread is not None:
        text += f" ± {fmt.format(summary.spread)}"
    if summary.interval:
        text += f" [{fmt.format(summary.noise[0])}, {fmt.format(summary.noise[1])}]"
    return text


def metric_columns(rows, grid):
    """(metric key, published?) for every metric results.csv or the published numbers hold;
    each metric's `best.` column follows it when the rows have one."""
    header = set().union(*(row.keys() for row in rows)) if rows else set()
    published = set().union(*grid.get("published", {}).values())
    columns = []
    for key in metric_keys():
        if key in header or key in published:
            columns.append((key, key in published))
        if BEST_PREFIX + key in header:
            columns.append((BEST_PREFIX + key, False))
    return columns


def _best_text(values, better, fmt):
    """The formatted best of `values` (so that values shown alike are bolded alike)."""
    values = [v for v in values if v is not None]
    if not values or better is None:
        return None
    return fmt.format(min(values) if better == "lower" else max(values))


def status_text(runs):
    """Why a variant has no results: its first run's status and error."""
    if not runs:
        return "not run"
    row = next((r for r in runs if r.get("error")), runs[0])
    error = " ".join(str(row.get("error") or "").split())
    error = error if len(error) <= 160 else error[:159] + "…"
    return f"{row.get('status') or 'failed'}: {error}" if error else row.get("status") or "failed"


def _info_columns(rows):
    """(header, runs -> text) of how each row was scored and trained, where rows say so."""
    header = set().union(*(row.keys() for row in rows)) if rows else set()

    def first(runs, *keys):
        done = done_runs(runs)
        return next((str(r[k]) for r in done for k in keys if r.get(k) not in (None, "")), "—")

    columns = []
    if any(str(row.get("seed", "")) != "" for row in rows):
        columns.append(("Seeds", lambda runs: f"{len(done_runs(runs))}" if all(
            r.get("status") == "done" for r in runs) else f"{len(done_runs(runs))} of {len(runs)}"))
    if any(key.startswith(BEST_PREFIX) for key in header):
        columns.append(("Best epoch", lambda runs: ", ".join(
            str(int(number(r.get("best.epoch")))) for r in done_runs(runs)
            if number(r.get("best.epoch")) is not None) or "—"))
    if "protocol" in header:
        columns.append(("Protocol", lambda runs: first(runs, "protocol")))
    if "feature_precision" in header:
        columns.append(("Features", lambda runs: first(runs, "feature_precision")))
    if {"num_generated", "num_generated_ab"} & header:
        columns.append(("N (generated/reference)", lambda runs: (
            f"{first(runs, 'num_generated', 'num_generated_ab')}/"
            f"{first(runs, 'num_reference', 'num_reference_ab')}")))
    return columns


def results_table(rows, grid):
    """The study's table: one row per variant (grid order), one column per metric.

    Metrics with published numbers get a kgan and a paper column side by side; the best
    generator's scores (`best.<metric>`) follow the final ones. The best mean of each quality
    column is bold (lowest FID, KID; highest precision/recall/PSNR/SSIM); a variant without a
    finished run spans its columns with "failed: <error>". Several seeds show "mean ± sd".

    Args:
        rows: dicts of results.csv (strings or numbers; empty, NA, nan count as absent).
        grid: the parsed grid (`variants`, optional `published`).

    Returns:
        Table.
    """
    runs, published = runs_by_variant(rows), grid.get("published", {})
    names = variant_names(rows, grid)
    done = [n for n in names if done_runs(runs.get(n, []))]
    columns = []  # (header, {variant: (value, text)}, the best value's text)
    for key, has_paper in metric_columns(rows, grid):
        label, better, fmt = metric(key).label, metric(key).better, metric(key).format
        summaries = {n: summarize(runs[n], key) for n in done}
        ours = {n: (s.mean, summary_text(s, fmt)) if s else (None, "—")
                for n, s in summaries.items()}
        sources = [(f"{label} (kgan)" if has_paper else label, ours)]
        if has_paper:
            paper = {n: number(published.get(n, {}).get(key)) for n in names}
            sources.append((f"{label} (paper)", {
                n: (v, "—" if v is None else fmt.format(v)) for n, v in paper.items()}))
        for header, values in sources:
            best = _best_text([v for v, _ in values.values()], better, fmt)
            columns.append((header, values, fmt, best))
    info = _info_columns(rows)
    costs = [(key, label, fmt) for key, (label, fmt) in COSTS.items()
             if any(key in row for row in rows)]
    table_rows = []
    for name in names:
        cells = [Cell(name), Cell(changes(grid, name))]
        if name not in done:
            span = max(len(columns) + len(info) + len(costs), 1)
            table_rows.append(cells + [Cell(status_text(runs.get(name, [])), span=span,
                                            failed=True)])
            continue
        for _, values, fmt, best in columns:
            value, text = values[name]
            cells.append(Cell(text, bold=value is not None and fmt.format(value) == best))
        cells += [Cell(text(runs[name])) for _, text in info]
        for key, _, fmt in costs:
            summary = summarize(runs[name], key)
            cells.append(Cell("—" if summary is None else fmt.format(summary.mean)))
        table_rows.append(cells + ([Cell("done")] if not columns + info + costs else []))
    headers = ([c[0] for c in columns] + [h for h, _ in info] + [label for _, label, _ in costs]
               or ["Status"])
    return Table(["Variant", "Changes from base", *headers], table_rows)


def changes(grid, name):
    """A variant's overrides of the base as `key=value, ...` ("(base)" for none)."""
    overrides = grid.get("variants", {}).get(name)
    if overrides is None:
        return ""
    recipe = grid.get("recipes", {}).get(name, grid.get("recipe"))
    if recipe != grid.get("recipe"):  # a variant trained by another recipe says so first
        overrides = {"recipe": recipe, **overrides}
    return options_text(overrides) or "(base)"


def options_text(options):
    """`key=value, ...` with TOML's spelling of booleans."""
    return ", ".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}"
                     for k, v in options.items())


def _separated(first, second, better):
    """Whether `first`'s noise range lies wholly on the better side of `second`'s."""
    if first.noise is None or second.noise is None:
        return False
    if better == "lower":
        return first.noise[1] < second.noise[0]
    return first.noise[0] > second.noise[1]


def separation_text(ranked, better):
    """What the noise lets one say about `ranked` ((name, Summary), best mean first)."""
    if len(ranked) < 2:
        return ""
    if any(summary.noise is None for _, summary in ranked):
        return "order not stated: no noise estimate (one run per variant; run several seeds)"
    beats, separated = [], 0
    for i, (name, summary) in enumerate(ranked):
        worse = [other for other, s in ranked[i + 1:] if _separated(summary, s, better)]
        if worse:
            beats.append(f"{name} better than {', '.join(worse)}")
            separated += len(worse)
    pairs = len(ranked) * (len(ranked) - 1) // 2
    if not beats:
        return "not separated: every pair's noise ranges overlap"
    rest = "" if separated == pairs else "; other pairs not separated"
    return f"beyond the noise: {'; '.join(beats)}{rest}"


def orderings(rows, grid):
    """Each quality metric's variants ranked best first, what the noise separates, and the
    paper's ranking beside it.

    Returns:
        list of str, one line per metric, e.g. "FID (lower is better): l1 110.7, l2 118.8;
        beyond the noise: l1 better than l2; paper: l1, l2 (same order ...)".
    """
    runs, published = runs_by_variant(rows), grid.get("published", {})
    names = variant_names(rows, grid)
    done = [n for n in names if done_runs(runs.get(n, []))]
    lines = []
    for key, has_paper in metric_columns(rows, grid):
        found = metric(key)
        summaries = {n: summarize(runs[n], key) for n in done}
        ranked = sorted(((n, s) for n, s in summaries.items() if s is not None),
                        key=lambda item: item[1].mean, reverse=found.better == "higher")
        text = ", ".join(f"{n} {found.format.format(s.mean)}" for n, s in ranked) or "no values"
        line = f"{found.label} ({found.better} is better): {text}"
        separation = separation_text(ranked, found.better)
        line += f"; {separation}" if separation else ""
        missing = [n for n in names if n not in done]
        if missing:
            line += f"; not finished: {', '.join(missing)}"
        if has_paper:
            paper = [n for n, v in sorted(
                ((n, number(published.get(n, {}).get(key))) for n in names
                 if number(published.get(n, {}).get(key)) is not None),
                key=lambda item: item[1], reverse=found.better == "higher")]
            ours = [n for n, _ in ranked if n in paper]
            same = "same order" if ours == [n for n in paper if n in ours] else "different order"
            line += f"; paper: {', '.join(paper)} ({same} on the variants both report)"
        lines.append(line)
    return lines
