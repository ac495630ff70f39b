"""The report of sweeps with seeds, FID intervals and best-epoch scores: means and spreads,
orderings stated only beyond the noise, final and best columns, how each row was scored."""

from kgan.sweep import figures, report
from kgan.sweep.results_table import results_table

GRID = {"recipe": "pix2pix", "title": "t", "base": {"eval-every": 2},
        "variants": {"a": {}, "b": {"recon-loss": "l2"}, "c": {"patch": 16}}}
# FID per seed (each with a bootstrap interval of +-3) and precision per seed: a and b
# overlap, c is worse than both beyond the noise; precision separates a from c only.
FID = {"a": (100.0, 102.0, 104.0), "b": (101.0, 103.0, 105.0), "c": (130.0, 131.0, 132.0)}
PRECISION = {"a": (0.70, 0.72, 0.74), "b": (0.53, 0.72, 0.73), "c": (0.50, 0.52, 0.54)}


def seeded_rows(fails=()):
    rows = []
    for name in GRID["variants"]:
        for seed, (fid, precision) in enumerate(zip(FID[name], PRECISION[name])):
            done = (name, seed) not in fails
            row = {"variant": name, "seed": seed, "status": "done" if done else "failed",
                   "error": "" if done else "killed", "seconds": 100 + seed}
            if done:
                row.update(protocol="paper", feature_precision="float32", validation="val",
                           fid=fid, fid_low=fid - 3, fid_high=fid + 3, precision=precision,
                           num_generated=106, num_reference=106,
                           **{"best.epoch": 4 + seed, "best.val_fid": fid - 10,
                              "best.fid": fid - 5, "best.fid_low": fid - 8,
                              "best.fid_high": fid - 2})
            rows.append({key: str(value) for key, value in row.items()})
    return rows


def test_table_shows_mean_sd_interval_best_columns_and_how_rows_were_scored():
    table = results_table(seeded_rows(fails={("c", 2)}), GRID)
    assert table.headers == [
        "Variant", "Changes from base", "Precision", "FID", "FID, best epoch", "Seeds",
        "Best epoch", "Protocol", "Features", "N (generated/reference)", "Time (s)"]
    texts = [[c.text for c in row] for row in table.rows]
    assert texts[0] == ["a", "(base)", "0.720 ± 0.020", "102.0 ± 2.0 [97.0, 107.0]",
                        "97.0 ± 2.0 [92.0, 102.0]", "3", "4, 5, 6", "paper", "float32",
                        "106/106", "101"]
    # c's third seed failed: two runs, mean and sd over them.
    assert texts[2][2:7] == ["0.510 ± 0.014", "130.5 ± 0.7 [127.0, 134.0]",
                             "125.5 ± 0.7 [122.0, 129.0]", "2 of 3", "4, 5"]
    assert [c.bold for c in table.rows[0][2:5]] == [True, True, True]


def test_orderings_state_only_what_the_noise_separates():
    lines = report.orderings(seeded_rows(), GRID)
    assert lines == [
        "Precision (higher is better): a 0.720, b 0.660, c 0.520; beyond the noise: a better "
        "than c; other pairs not separated",
        "FID (lower is better): a 102.0, b 103.0, c 131.0; beyond the noise: a better than c; "
        "b better than c; other pairs not separated",
        "FID, best epoch (lower is better): a 97.0, b 98.0, c 126.0; beyond the noise: a "
        "better than c; b better than c; other pairs not separated",
    ]
    close = [dict(row, fid_low="0", fid_high="500") for row in seeded_rows()]
    assert "FID (lower is better): a 102.0, b 103.0, c 131.0; not separated: every pair's " \
           "noise ranges overlap" in report.orderings(close, GRID)


def test_notes_say_what_the_brackets_mean_and_which_runs_had_no_validation_split():
    rows = [dict(row, validation="none") if row["variant"] == "c" else row
            for row in seeded_rows()]
    blocks = report.report_blocks(rows, GRID)
    notes = [text for kind, text in blocks if kind == "note"]
    assert any(note.startswith("[low, high]: FID's 95% bootstrap interval") for note in notes)
    assert any("Protocol: inference runs the generator as exports do" in n for n in notes)
    assert ("No validation split (c): the held-out images are the test split, so only the "
            "final generator is scored.") in notes
    assert ("p", "Recipe pix2pix, 3 variants, seeds 0, 1, 2. Base options: eval-every=2.") \
        in blocks


def test_figures_draw_each_variants_lowest_seed(tmp_path):
    for folder in ("a/seed10", "a/seed2", "a/notes", "b"):
        (tmp_path / "runs" / folder).mkdir(parents=True)
    assert figures.variant_run(str(tmp_path), "a") == str(tmp_path / "runs" / "a" / "seed2")
    assert figures.variant_run(str(tmp_path), "b") == str(tmp_path / "runs" / "b")
    assert figures.variant_run(str(tmp_path), "c") == str(tmp_path / "runs" / "c")
