"""Benchmark kgan: `python -m kgan.bench {train,compare,data,inception,export} [options]`.

Usage:
    python -m kgan.bench train pix2pix|cyclegan [--config FILE.toml] [--image-size 256]
        [--batch-size 1] [--steps 20] [--warmup 3] [--base-filters 64] [--precision auto]
        [--jit-compile]
    python -m kgan.bench compare pix2pix|cyclegan|inception [--precisions mixed_bfloat16]
        [--jit-compile] [--rounds 2] [--steps 10]
    python -m kgan.bench data [--dataset bluemarble | --data-dir DIR] [--image-size 256]
    python -m kgan.bench inception [--weights fid] [--batch-size 50] [--precision auto]
    python -m kgan.bench export [--image-size 256] [--base-filters 64] [--precision auto]

Each prints one JSON line (speeds in steps/s, images/s and ms, the peak memory, the device and
versions); `--output FILE.jsonl` appends it to a file too. Warmup steps (tracing, XLA
compilation, allocation, filling buffers) are never timed. The same command runs on a CPU or a
GPU machine; `device` in the line says which ran it.
"""

import argparse
import sys

from kgan.bench import common, compare, data, export, inception, train
from kgan.cli import run_reporting_errors

BENCHMARKS = {"train": train, "compare": compare, "data": data, "inception": inception,
              "export": export}


def build_parser():
    """The argument parser: one subcommand per module of `BENCHMARKS`."""
    parser = argparse.ArgumentParser(prog="python -m kgan.bench",
                                     description=__doc__.splitlines()[0])
    subcommands = parser.add_subparsers(dest="bench", required=True, metavar="BENCHMARK")
    for name, module in BENCHMARKS.items():
        module.add_arguments(subcommands.add_parser(
            name, help=module.__doc__.splitlines()[0], description=module.__doc__))
    return parser


def parse_args(argv=None):
    """Parse command-line options; argparse exits 2 with a message for bad ones."""
    return build_parser().parse_args(argv)


def _run(options):
    common.emit(BENCHMARKS[options.bench].run(options), options.output)
    return 0


def main(argv=None):
    """Run one benchmark; returns the exit status (1 with a one-line error on failure)."""
    return run_reporting_errors(_run, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
