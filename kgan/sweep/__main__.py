"""Run a study grid: `python -m kgan.sweep GRID.toml --out DIR`.

Trains every variant of the grid through its recipe, once per seed when the grid or --seeds
names several (one run folder each under DIR/runs/), evaluates each run on the test split
(FID with a bootstrap interval, KID, precision, recall; PSNR/SSIM for paired data; both
directions for CycleGAN; the best-validation-FID generator too when the grid sets
eval-every), and writes DIR/results.csv, DIR/report.md and DIR/report.html. Rerunning the
same command skips finished runs and resumes interrupted ones; a run trained with other
options than the grid and --set now give is refused (see --retrain-changed).
"""

import argparse
import os
import tomllib

from kgan.cli import positive_int, run_reporting_errors
from kgan.errors import ConfigError
from kgan.precision import PRECISIONS
from kgan.sweep.grid import check_seeds, load_grid
from kgan.sweep.runner import Sweep


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m kgan.sweep", description=__doc__.splitlines()[0])
    parser.add_argument("grid", metavar="GRID.toml", help="the grid file, e.g. recipes/study_pix2pix_facades_cpu.toml")
    parser.add_argument("--out", help="sweep folder (default runs/<grid file name>)")
    parser.add_argument("--qualitative", type=positive_int, default=4, metavar="N",
                        help="test examples in the report's side-by-side figure (default 4)")
    parser.add_argument("--eval-images", type=positive_int, metavar="N",
                        help="score each variant on the first N test images of each set "
                        "(default: all; precision/recall need more than 3)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="an option for every variant, after the grid's (repeatable), "
                        "e.g. --set epochs=2; --set data-dir=DIR reads that folder instead "
                        "of the grid's dataset")
    parser.add_argument("--seeds", metavar="S,S,...",
                        help="train every variant once per seed, e.g. 0,1,2 (default: the "
                        "grid's seeds; without any, one run per variant)")
    parser.add_argument("--feature-precision", default="float32", choices=PRECISIONS,
                        help="dtype policy of the Inception features the scores use "
                        "(default float32, the same on every machine)")
    parser.add_argument("--retrain-changed", action="store_true",
                        help="a run whose config.toml differs from its variant's options "
                        "(another grid or --set) is moved to OUT/replaced/ and trained again "
                        "(default: refuse with one line and run nothing)")
    return parser.parse_args(argv)


def _extra_options(pairs):
    """`--set KEY=VALUE` pairs as a dict of dashed option names to TOML-typed values."""
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"--set {pair!r}: use KEY=VALUE, e.g. --set epochs=2")
        try:  # TOML's value syntax: 2, 0.5, true, "l1"; a bare word is a string
            value = tomllib.loads(f"v = {value}")["v"]
        except tomllib.TOMLDecodeError:
            pass
        options[key.replace("_", "-")] = value
    return options


def _seeds(text):
    """`--seeds 0,1,2` as [0, 1, 2]; None when not given."""
    if text is None:
        return None
    try:
        seeds = [int(part) for part in text.split(",")]
    except ValueError:
        raise ConfigError(f"--seeds {text!r}: use integers separated by commas, e.g. "
                          "--seeds 0,1,2") from None
    return check_seeds(seeds, "--seeds")


def main(argv=None):
    """Run the sweep; returns 0 when every variant finished, 1 when some failed."""
    options = parse_args(argv)
    grid = load_grid(options.grid)
    out = options.out or os.path.join("runs", os.path.splitext(os.path.basename(options.grid))[0])
    if os.path.exists(out) and not os.path.isdir(out):
        raise ConfigError(f"--out {out} is a file; name a folder")
    sweep = Sweep(grid, out, _extra_options(options.set), qualitative=options.qualitative,
                  eval_images=options.eval_images, seeds=_seeds(options.seeds),
                  feature_precision=options.feature_precision,
                  retrain_changed=options.retrain_changed)
    return 1 if sweep.run() else 0


if __name__ == "__main__":
    raise SystemExit(run_reporting_errors(
        main, None, interrupted="rerun the same command to go on (finished variants are kept, "
        "the interrupted one resumes from its last checkpoint)"))
