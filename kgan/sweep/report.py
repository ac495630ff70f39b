"""The report of a sweep: the study's results table and orderings, as Markdown and HTML.

`write_report(sweep_dir, grid)` reads the sweep folder that `kgan.sweep` wrote
    results.csv                         one row per variant: status, error, options, metrics
    runs/<variant>/history.csv          per-epoch losses (or steps.csv: per-step, preferred)
    runs/<variant>/qualitative/NN.png   the variant's outputs for qualitative/inputs/NN.png
    qualitative/inputs/NN.png, qualitative/targets/NN.png (targets absent for unpaired data)
and writes report.md (figures linked by relative path), a self-contained report.html (figures
embedded as data URIs) and figures/losses.png, figures/qualitative.png (drawn by
`kgan.sweep.figures`).

Both documents are rendered from one list of blocks, so they always say the same thing; the
table and the orderings are pure functions of the rows and the grid (no matplotlib).
"""

import base64
import collections
import csv
import html
import math
import os

from kgan.atomic import write_text
from kgan.errors import KganError

# Metric key in results.csv -> (column label, which way is better, format). Columns appear in
# this order (the study's: P, R, FID; CycleGAN's FID of both directions first), each only when
# results.csv or the published numbers have it. Costs are shown but never ranked.
METRICS = {
    "precision": ("Precision", "higher", "{:.3f}"),
    "recall": ("Recall", "higher", "{:.3f}"),
    "fid": ("FID", "lower", "{:.1f}"),
    "psnr": ("PSNR (dB)", "higher", "{:.2f}"),
    "ssim": ("SSIM", "higher", "{:.3f}"),
    "fid_ab": ("FID A→B", "lower", "{:.1f}"),
    "fid_ba": ("FID B→A", "lower", "{:.1f}"),
    "precision_ab": ("Precision A→B", "higher", "{:.3f}"),
    "recall_ab": ("Recall A→B", "higher", "{:.3f}"),
    "precision_ba": ("Precision B→A", "higher", "{:.3f}"),
    "recall_ba": ("Recall B→A", "higher", "{:.3f}"),
    "seconds": ("Time (s)", None, "{:.0f}"),
    "seconds_per_step": ("s/step", None, "{:.3f}"),
    "peak_memory_mb": ("Peak memory (MB)", None, "{:.0f}"),
}

Cell = collections.namedtuple("Cell", "text bold span failed", defaults=(False, 1, False))
Cell.__doc__ = ("A table cell: `text`, whether it is the best of its column, the columns it "
                "spans, whether it says why a variant has no results.")
Table = collections.namedtuple("Table", "headers rows")
Table.__doc__ = "`headers`: list of str; `rows`: list of lists of `Cell` (spans add up)."

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #222;
       max-width: 1200px; margin: 2em auto; padding: 0 1em; line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 1.8em; } .table { overflow-x: auto; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; font-size: .92em; }
th, td { border: 1px solid #d0d0d0; padding: .3em .65em; text-align: right; }
td { white-space: nowrap; } th { background: #f3f3f3; }
tr:nth-child(even) td { background: #fafafa; }
td:nth-child(-n+2), th:nth-child(-n+2) { text-align: left; }
td:nth-child(2) { white-space: normal; min-width: 12em; max-width: 22em; }
td.failed { color: #a40000; text-align: left; white-space: normal; }
figure { margin: 1.2em 0; } img { max-width: 100%; height: auto; }
figcaption, .note { color: #555; font-size: .9em; }
"""


def write_report(sweep_dir, grid):
    """Write report.md, report.html and figures/ for a sweep folder.

    Args:
        sweep_dir: the folder `python -m kgan.sweep` wrote (results.csv, runs/, qualitative/).
        grid: the parsed grid: `recipe`, optional `title`, `base`, `variants` (name ->
            overrides, in grid order), optional `published` (name -> metric -> number).

    Returns:
        (md_path, html_path): the two documents written.
    """
    # Imported here, not at the top: figures.py reads CSV values with this module's `number`.
    from kgan.sweep.figures import loss_figure, qualitative_figure

    rows = read_results(os.path.join(sweep_dir, "results.csv"))
    names = variant_names(rows, grid)
    figures = []
    losses = os.path.join(sweep_dir, "figures", "losses.png")
    caption = loss_figure(sweep_dir, names, losses)
    if caption:
        figures.append(("Training losses", losses, caption))
    qualitative = os.path.join(sweep_dir, "figures", "qualitative.png")
    caption = qualitative_figure(sweep_dir, names, qualitative)
    if caption:
        figures.append(("Qualitative results", qualitative, caption))
    blocks = report_blocks(rows, grid, figures)
    md_path = os.path.join(sweep_dir, "report.md")
    html_path = os.path.join(sweep_dir, "report.html")
    write_text(md_path, render_markdown(blocks, sweep_dir))
    write_text(html_path, render_html(blocks, grid_title(grid)))
    return md_path, html_path


def read_results(path):
    """The rows of results.csv as dicts of strings."""
    try:
        with open(path, newline="") as f:
            return list(csv.DictReader(f))
    except FileNotFoundError:
        raise KganError(f"{path} is missing: run the sweep (python -m kgan.sweep) first") from None


def variant_names(rows, grid):
    """Variants in grid order, then any that only results.csv names."""
    names = list(grid.get("variants", {}))
    return names + [r["variant"] for r in rows if r["variant"] not in names]


def grid_title(grid):
    return grid.get("title") or f"{grid.get('recipe', 'kgan')} sweep"


def number(value):
    """A CSV value as a finite float, or None (empty, NA, nan, inf, not a number)."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def metric_columns(rows, grid):
    """(metric key, published?) for every metric results.csv or the published numbers hold."""
    header = set().union(*(row.keys() for row in rows)) if rows else set()
    published = set().union(*grid.get("published", {}).values())
    return [(key, key in published) for key in METRICS if key in header or key in published]


def _by_name(rows):
    return {row["variant"]: row for row in rows}


def _done(row):
    return row is not None and row.get("status") == "done"


def _status_text(row):
    if row is None:
        return "not run"
    error = " ".join(str(row.get("error") or "").split())
    error = error if len(error) <= 160 else error[:159] + "…"
    return f"{row.get('status') or 'failed'}: {error}" if error else row.get("status") or "failed"


def _best_text(values, better, fmt):
    """The formatted best of `values` (so that values shown alike are bolded alike)."""
    values = [v for v in values if v is not None]
    if not values or better is None:
        return None
    return fmt.format(min(values) if better == "lower" else max(values))


def _changes(grid, name):
    overrides = grid.get("variants", {}).get(name)
    if overrides is None:
        return ""
    recipe = grid.get("recipes", {}).get(name, grid.get("recipe"))
    if recipe != grid.get("recipe"):  # a variant trained by another recipe says so first
        overrides = {"recipe": recipe, **overrides}
    return _options_text(overrides) or "(base)"


def _options_text(options):
    """`key=value, ...` with TOML's spelling of booleans."""
    return ", ".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}"
                     for k, v in options.items())


def results_table(rows, grid):
    """The study's table: one row per variant (grid order), one column per metric.

    Metrics with published numbers get a kgan and a paper column side by side. The best value
    of each quality column is bold (lowest FID, highest precision/recall/PSNR/SSIM); a variant
    that did not finish spans its metric columns with "failed: <error>".

    Args:
        rows: dicts of results.csv (strings or numbers; empty, NA, nan count as absent).
        grid: the parsed grid (`variants`, optional `published`).

    Returns:
        Table.
    """
    by_name, published = _by_name(rows), grid.get("published", {})
    names = variant_names(rows, grid)
    done = [n for n in names if _done(by_name.get(n))]
    columns = []  # (header, {variant: value}, format, the best value's text)
    for key, has_paper in metric_columns(rows, grid):
        label, better, fmt = METRICS[key]
        sources = [(f"{label} (kgan)" if has_paper else label,
                    {n: number(by_name[n].get(key)) for n in done})]
        if has_paper:
            sources.append((f"{label} (paper)",
                            {n: number(published.get(n, {}).get(key)) for n in names}))
        columns += [(header, values, fmt, _best_text(values.values(), better, fmt))
                    for header, values in sources]
    table_rows = []
    for name in names:
        cells = [Cell(name), Cell(_changes(grid, name))]
        if name not in done:
            cells.append(Cell(_status_text(by_name.get(name)), span=max(len(columns), 1),
                              failed=True))
        for _, values, fmt, best in columns if name in done else ():
            text = "—" if values[name] is None else fmt.format(values[name])
            cells.append(Cell(text, bold=text == best))
        table_rows.append(cells + ([Cell("done")] if name in done and not columns else []))
    headers = [c[0] for c in columns] or ["Status"]
    return Table(["Variant", "Changes from base", *headers], table_rows)


def orderings(rows, grid):
    """Each quality metric's variants ranked best first, and the paper's ranking beside it.

    Returns:
        list of str, one line per metric, e.g. "FID (lower is better): l1 110.7, l2 118.8;
        paper: l1, l2 (same order)".
    """
    by_name, published = _by_name(rows), grid.get("published", {})
    names = variant_names(rows, grid)
    lines = []
    for key, has_paper in metric_columns(rows, grid):
        label, better, fmt = METRICS[key]
        if better is None:
            continue
        ranked = _rank({n: number(by_name[n].get(key)) for n in names if _done(by_name.get(n))},
                       better)
        text = ", ".join(f"{n} {fmt.format(v)}" for n, v in ranked) or "no values"
        line = f"{label} ({better} is better): {text}"
        missing = [n for n in names if not _done(by_name.get(n))]
        if missing:
            line += f"; not finished: {', '.join(missing)}"
        if has_paper:
            paper = [n for n, _ in _rank({n: number(published.get(n, {}).get(key))
                                          for n in names}, better)]
            ours = [n for n, _ in ranked if n in paper]
            same = "same order" if ours == [n for n in paper if n in ours] else "different order"
            line += f"; paper: {', '.join(paper)} ({same} on the variants both report)"
        lines.append(line)
    return lines


def _rank(values, better):
    present = [(n, v) for n, v in values.items() if v is not None]
    return sorted(present, key=lambda item: item[1], reverse=better == "higher")


def report_blocks(rows, grid, figures=()):
    """The report as blocks both renderers share: ("h1"|"h2"|"p"|"note", str), ("table",
    Table), ("list", [str]), ("figure", alt, path, caption)."""
    by_name = _by_name(rows)
    names = variant_names(rows, grid)
    failed = [n for n in names if not _done(by_name.get(n))]
    base = _options_text(grid.get("base", {}))
    recipes = sorted(set(grid.get("recipes", {}).values()) | {grid.get("recipe", "?")})
    summary = (f"Recipe{'s' if len(recipes) > 1 else ''} {', '.join(recipes)}, "
               f"{len(names)} variants"
               + (f" ({len(failed)} not finished: {', '.join(failed)})" if failed else "")
               + (f". Base options: {base}." if base else "."))
    blocks = [("h1", grid_title(grid)), ("p", summary), ("h2", "Results"),
              ("table", results_table(rows, grid)),
              ("note", "Bold: the best value of each column (lowest FID; highest precision, "
                       "recall, PSNR, SSIM). Paper: the study's published numbers."),
              ("h2", "Orderings"), ("list", orderings(rows, grid) or ["no metrics"])]
    for alt, path, caption in figures:
        blocks += [("h2", alt), ("figure", alt, path, caption)]
    return blocks


def render_markdown(blocks, sweep_dir):
    """Markdown with figures linked relative to `sweep_dir` (where report.md goes)."""
    out = []
    for kind, *content in blocks:
        if kind == "h1":
            out.append(f"# {content[0]}")
        elif kind == "h2":
            out.append(f"## {content[0]}")
        elif kind in ("p", "note"):
            out.append(content[0] if kind == "p" else f"*{content[0]}*")
        elif kind == "list":
            out.append("\n".join(f"- {item}" for item in content[0]))
        elif kind == "table":
            out.append(_markdown_table(content[0]))
        elif kind == "figure":
            alt, path, caption = content
            link = os.path.relpath(path, sweep_dir).replace(os.sep, "/")
            out.append(f"![{alt}]({link})\n\n{caption}")
    return "\n\n".join(out) + "\n"


def _markdown_table(table):
    def cell(c):
        text = c.text.replace("|", "\\|")
        text = f"**{text}**" if c.bold else text
        return [text] + [""] * (c.span - 1)  # Markdown has no colspan: blank cells follow

    lines = ["| " + " | ".join(h.replace("|", "\\|") for h in table.headers) + " |",
             "|" + "|".join([":---"] * 2 + ["---:"] * (len(table.headers) - 2)) + "|"]
    for row in table.rows:
        lines.append("| " + " | ".join(t for c in row for t in cell(c)) + " |")
    return "\n".join(lines)


def render_html(blocks, title):
    """One HTML page with every figure embedded as a base64 PNG data URI."""
    body = []
    for kind, *content in blocks:
        if kind in ("h1", "h2"):
            body.append(f"<{kind}>{html.escape(content[0])}</{kind}>")
        elif kind == "p":
            body.append(f"<p>{html.escape(content[0])}</p>")
        elif kind == "note":
            body.append(f'<p class="note">{html.escape(content[0])}</p>')
        elif kind == "list":
            items = "".join(f"<li>{html.escape(item)}</li>" for item in content[0])
            body.append(f"<ul>{items}</ul>")
        elif kind == "table":
            body.append(_html_table(content[0]))
        elif kind == "figure":
            alt, path, caption = content
            with open(path, "rb") as f:
                data = base64.b64encode(f.read()).decode("ascii")
            body.append(f'<figure><img alt="{html.escape(alt)}" src="data:image/png;base64,'
                        f'{data}"><figcaption>{html.escape(caption)}</figcaption></figure>')
    return (f'<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{html.escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            + "\n".join(body) + "\n</body>\n</html>\n")


def _html_table(table):
    head = "".join(f"<th>{html.escape(h)}</th>" for h in table.headers)
    rows = []
    for row in table.rows:
        cells = []
        for c in row:
            text = f"<b>{html.escape(c.text)}</b>" if c.bold else html.escape(c.text)
            attrs = (f' colspan="{c.span}"' if c.span > 1 else "") + (
                ' class="failed"' if c.failed else "")
            cells.append(f"<td{attrs}>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<div class="table"><table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n'
            + "\n".join(rows) + "\n</tbody></table></div>")
