"""The report of a sweep: the study's results table and orderings, as Markdown and HTML.

`write_report(sweep_dir, grid)` reads the sweep folder that `kgan.sweep` wrote
    results.csv                         one row per run: variant, seed, status, error, options,
                                        how it was scored, metrics (final and best)
    runs/<variant>[/seed<S>]/history.csv  per-epoch losses (or steps.csv: per-step, preferred)
    runs/<variant>[/seed<S>]/qualitative/NN.png  the run's outputs for qualitative/inputs/NN.png
    qualitative/inputs/NN.png, qualitative/targets/NN.png (targets absent for unpaired data)
and writes report.md (figures linked by relative path), a self-contained report.html (figures
embedded as data URIs) and figures/losses.png, figures/qualitative.png (drawn by
`kgan.sweep.figures`).

Both documents are rendered from one list of blocks, so they always say the same thing; the
table and the orderings (`kgan.sweep.results_table`) are pure functions of the rows and the
grid (no matplotlib).
"""

import base64
import csv
import html
import os

from kgan.atomic import write_text
from kgan.errors import KganError
from kgan.sweep.results_table import (done_runs, options_text, orderings, results_table,
                                      runs_by_variant, variant_names)

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
    from kgan.sweep.figures import loss_figure, qualitative_figure  # matplotlib only here

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


def grid_title(grid):
    return grid.get("title") or f"{grid.get('recipe', 'kgan')} sweep"


def _notes(rows, runs, names):
    """The notes under the table: what bold and the brackets mean, how the rows were scored,
    and which runs had no validation split to pick a best epoch on."""
    header = set().union(*(row.keys() for row in rows)) if rows else set()
    notes = ["Bold: the best mean of each column (lowest FID and KID; highest precision, "
             "recall, PSNR, SSIM). Paper: the study's published numbers."]
    if any("fid_low" in key for key in header):
        notes.append("[low, high]: FID's 95% bootstrap interval over the test images (200 "
                     "resamples of the generated and real features), over seeds from the "
                     "lowest to the highest run's; ± sd: the standard deviation over seeds. "
                     "Orderings are stated only where these ranges do not overlap.")
    if "protocol" in header:
        notes.append("Protocol: inference runs the generator as exports do (dropout off, "
                     "moving batch-norm statistics); paper as pix2pix's paper scores (dropout "
                     "on, batch statistics). Features: the Inception network's precision. "
                     "N: generated and reference test images per score.")
    if any(key.startswith("best.") for key in header):
        notes.append("Best epoch: the epoch with the lowest validation FID (val split); "
                     "its generator is scored on the test split like the final one.")
    without = [n for n in names if any(r.get("validation") == "none" for r in runs.get(n, []))]
    if without:
        notes.append(f"No validation split ({', '.join(without)}): the held-out images are "
                     "the test split, so only the final generator is scored.")
    return notes


def report_blocks(rows, grid, figures=()):
    """The report as blocks both renderers share: ("h1"|"h2"|"p"|"note", str), ("table",
    Table), ("list", [str]), ("figure", alt, path, caption)."""
    runs = runs_by_variant(rows)
    names = variant_names(rows, grid)
    failed = [n for n in names if not done_runs(runs.get(n, []))]
    base = options_text(grid.get("base", {}))
    recipes = sorted(set(grid.get("recipes", {}).values()) | {grid.get("recipe", "?")})
    seeds = sorted({str(r["seed"]) for r in rows if str(r.get("seed", "")) != ""}, key=int)
    summary = (f"Recipe{'s' if len(recipes) > 1 else ''} {', '.join(recipes)}, "
               f"{len(names)} variants"
               + (f", seeds {', '.join(seeds)}" if seeds else "")
               + (f" ({len(failed)} not finished: {', '.join(failed)})" if failed else "")
               + (f". Base options: {base}." if base else "."))
    blocks = [("h1", grid_title(grid)), ("p", summary), ("h2", "Results"),
              ("table", results_table(rows, grid))]
    blocks += [("note", note) for note in _notes(rows, runs, names)]
    blocks += [("h2", "Orderings"), ("list", orderings(rows, grid) or ["no metrics"])]
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
