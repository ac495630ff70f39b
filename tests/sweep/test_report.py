"""kgan.sweep.report and kgan.sweep.figures: the study's table, orderings, figures, and the
two documents."""

import base64
import html.parser
import io
import os
import re

import numpy as np
from PIL import Image

from kgan.sweep import figures, report
from sweep_fixture import EXAMPLES, PIX2PIX_GRID, PIX2PIX_METRICS, make_sweep, results_rows

FAILED = "failed: ResourceExhaustedError: OOM when allocating tensor"
# One run per variant and no bootstrap interval in these rows: nothing measures the noise.
NO_NOISE = "order not stated: no noise estimate (one run per variant; run several seeds); "


def _as_text(table):
    """Rows as lists of "text" or "**text**" (bold) strings; a spanning cell as (text, span)."""
    def cell(c):
        text = f"**{c.text}**" if c.bold else c.text
        return (text, c.span) if c.span > 1 else text

    return [[cell(c) for c in row] for row in table.rows]


def test_results_table_bolds_the_best_and_spans_failed_variants():
    rows = results_rows(PIX2PIX_GRID, PIX2PIX_METRICS)
    table = report.results_table(rows, PIX2PIX_GRID)
    assert table.headers == [
        "Variant", "Changes from base", "Precision (kgan)", "Precision (paper)", "Recall (kgan)",
        "Recall (paper)", "FID (kgan)", "FID (paper)", "PSNR (dB)", "SSIM", "Time (s)",
        "s/step", "Peak memory (MB)"]
    # Bold: kgan's best among finished variants, the paper's best among its own numbers (a
    # tie, 0.76, bolds both); costs are never bold.
    assert _as_text(table) == [
        ["l1", "(base)", "**0.701**", "**0.760**", "0.300", "**0.390**", "**120.0**",
         "**110.7**", "14.50", "**0.310**", "600", "0.300", "2048"],
        ["l2", "recon-loss=l2", "0.600", "0.640", "0.200", "0.260", "130.5", "118.8",
         "**15.25**", "0.290", "600", "0.300", "2048"],
        ["patch16", "patch=16", "0.650", "**0.760**", "**0.400**", "0.290", "140.0", "116.5",
         "13.00", "0.250", "600", "0.300", "2048"],
        ["no-skip", "no-skip=true", (FAILED, 11)],
    ]


def test_results_table_follows_grid_order_and_shows_unrun_variants():
    grid = {"recipe": "pix2pix", "variants": {"b": {}, "a": {}, "c": {}}}
    rows = [{"variant": "a", "status": "done", "fid": "50"},
            {"variant": "b", "status": "done", "fid": "NA"},
            {"variant": "extra", "status": "done", "fid": "40"}]
    table = report.results_table(rows, grid)
    assert table.headers == ["Variant", "Changes from base", "FID"]
    assert _as_text(table) == [["b", "(base)", "—"], ["a", "(base)", "50.0"],
                               ["c", "(base)", "not run"], ["extra", "", "**40.0**"]]


def test_cyclegan_table_has_both_directions_fid_first():
    grid = {"recipe": "cyclegan", "variants": {"l1": {}, "l2": {"cycle-loss": "l2"}},
            "published": {"l1": {"fid_ab": 204.1}}}
    metrics = {"fid_ab": 1, "precision_ab": 1, "recall_ab": 1, "fid_ba": 1, "precision_ba": 1,
               "recall_ba": 1}
    rows = [{"variant": n, "status": "done", **metrics} for n in grid["variants"]]
    assert report.results_table(rows, grid).headers == [
        "Variant", "Changes from base", "FID A→B (kgan)", "FID A→B (paper)", "FID B→A",
        "Precision A→B", "Recall A→B", "Precision B→A", "Recall B→A"]


def test_a_variant_of_another_recipe_names_it_in_its_changes_and_the_summary():
    grid = {"recipe": "cyclegan", "title": "t",
            "variants": {"cyclegan": {}, "fastcut": {"mode": "fastcut"}},
            "recipes": {"cyclegan": "cyclegan", "fastcut": "cut"}}
    rows = [{"variant": n, "status": "done", "fid_ab": "1"} for n in grid["variants"]]
    assert [row[:2] for row in _as_text(report.results_table(rows, grid))] == [
        ["cyclegan", "(base)"], ["fastcut", "recipe=cut, mode=fastcut"]]
    assert ("p", "Recipes cut, cyclegan, 2 variants.") in report.report_blocks(rows, grid)


def test_orderings_rank_best_first_and_compare_with_the_paper():
    lines = report.orderings(results_rows(PIX2PIX_GRID, PIX2PIX_METRICS), PIX2PIX_GRID)
    assert lines == [
        "Precision (higher is better): l1 0.701, patch16 0.650, l2 0.600; " + NO_NOISE
        + "not finished: no-skip; paper: l1, patch16, l2 (same order on the variants both "
        "report)",
        "Recall (higher is better): patch16 0.400, l1 0.300, l2 0.200; " + NO_NOISE
        + "not finished: no-skip; paper: l1, patch16, l2 (different order on the variants "
        "both report)",
        "FID (lower is better): l1 120.0, l2 130.5, patch16 140.0; " + NO_NOISE
        + "not finished: no-skip; paper: l1, patch16, l2 (different order on the variants "
        "both report)",
        "PSNR (dB) (higher is better): l2 15.25, l1 14.50, patch16 13.00; " + NO_NOISE
        + "not finished: no-skip",
        "SSIM (higher is better): l1 0.310, l2 0.290, patch16 0.250; " + NO_NOISE
        + "not finished: no-skip",
    ]


class _Sources(html.parser.HTMLParser):
    """Every tag name and every src/href value of a page."""

    def __init__(self):
        super().__init__()
        self.tags, self.links = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.links += [value for name, value in attrs if name in ("src", "href")]


def _png(data, min_size):
    image = Image.open(io.BytesIO(data))
    image.load()
    assert image.format == "PNG"
    assert image.width >= min_size[0] and image.height >= min_size[1], image.size
    return image


def test_write_report_writes_linked_figures_and_a_self_contained_page(pix2pix_sweep):
    folder, grid = pix2pix_sweep
    md_path, html_path = report.write_report(str(folder), grid)
    assert (md_path, html_path) == (str(folder / "report.md"), str(folder / "report.html"))
    markdown = open(md_path).read()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", markdown)
    assert links == ["figures/losses.png", "figures/qualitative.png"]
    for link in links:
        _png((folder / link).read_bytes(), (600, 300))
    assert "| l1 | (base) | **0.701** | **0.760** |" in markdown
    assert f"| no-skip | no-skip=true | {FAILED} |" + "  |" * 10 + "\n" in markdown

    page = open(html_path).read()
    sources = _Sources()
    sources.feed(page)
    assert "link" not in sources.tags and "script" not in sources.tags
    assert "url(" not in page and "@import" not in page
    assert len(sources.links) == 2
    for link in sources.links:
        assert link.startswith("data:image/png;base64,"), link[:60]
        _png(base64.b64decode(link.split(",", 1)[1]), (600, 300))
    assert '<td colspan="11" class="failed">' + FAILED in page
    assert "<td><b>120.0</b></td>" in page


def test_qualitative_figure_has_a_column_per_variant_and_grey_tiles(pix2pix_sweep):
    folder, grid = pix2pix_sweep
    path = folder / "q.png"
    caption = figures.qualitative_figure(str(folder), list(grid["variants"]), str(path))
    assert caption == (f"{EXAMPLES} test examples: input, each variant's output, ground truth."
                       " Grey: no image (no-skip).")
    image = Image.open(path)
    # input, 4 variants, ground truth: 6 tiles of 1.6 in at 100 dpi across.
    assert image.size == (6 * 160, int((EXAMPLES * 1.6 + 0.4) * 100))
    pixels = np.asarray(image.convert("RGB")).reshape(-1, 3)
    grey = np.all(pixels == 160, axis=1).sum()
    assert grey > EXAMPLES * 100 * 100  # no-skip's tiles (about 150 x 150 each, less the text)


def test_qualitative_figure_without_targets_or_inputs(tmp_path):
    folder = make_sweep(tmp_path / "sweep", targets=False)
    names = list(PIX2PIX_GRID["variants"])
    caption = figures.qualitative_figure(str(folder), names, str(tmp_path / "q.png"))
    assert "(unpaired data: no ground truth)" in caption
    assert Image.open(tmp_path / "q.png").width == 5 * 160
    assert figures.qualitative_figure(str(tmp_path), names, str(tmp_path / "none.png")) is None
    assert not os.path.exists(tmp_path / "none.png")


def test_loss_figure_prefers_per_step_curves(tmp_path):
    names = list(PIX2PIX_GRID["variants"])
    folder = make_sweep(tmp_path / "steps", steps=1000)
    caption = figures.loss_figure(str(folder), names, str(tmp_path / "steps.png"))
    assert caption == ("Training losses per step, running mean over 10 steps, one line per "
                       "variant. No history: no-skip.")
    folder = make_sweep(tmp_path / "epochs")
    caption = figures.loss_figure(str(folder), names, str(tmp_path / "epochs.png"))
    assert caption == "Training losses per epoch, one line per variant. No history: no-skip."
    _png((tmp_path / "epochs.png").read_bytes(), (1200, 800))


def test_read_curves_reads_na_as_nan_and_skips_rows_without_x(tmp_path):
    (tmp_path / "history.csv").write_text(
        "epoch,d_loss,g_adv,g_cycle,g_loss\n0,0.5,1.0,2.0,NA\n1,0.5,1.5,1.0,3\n,1,1,1,1\n")
    x, columns = figures._read_curves(str(tmp_path), "epoch")
    assert x == [0, 1]
    assert columns["g_cycle"] == [2.0, 1.0]
    assert np.isnan(columns["g_loss"][0]) and columns["g_loss"][1] == 3
    assert figures._read_curves(str(tmp_path), "step") is None
