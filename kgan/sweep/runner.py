"""Run every variant of a grid, evaluate it, and keep the sweep folder's tables up to date.

A sweep folder (`--out DIR`) holds:
    runs/<variant>/     one recipe run folder per variant (resumable, see kgan.run_folder),
                        plus evaluation.json and qualitative/NN.png once it is evaluated;
                        with seeds, runs/<variant>/seed<S>/, one per seed
    logs/<run>.log      the recipe's and the evaluation's output (<variant> or
                        <variant>_seed<S>)
    qualitative/        the fixed test inputs (and targets) every variant translated
    state.json          per run: failed runs with their error, training seconds, memory
    results.csv         one row per run: variant, seed, status, every option, every metric
    report.md, report.html, figures/

Each run is trained and evaluated in a child process, so one that fails (or runs out of
memory) is reported with its error and the sweep goes on. A run whose evaluation.json
exists is finished and skipped; any other resumes from its last checkpoint, so rerunning a
killed sweep loses at most what the recipe had not checkpointed. A run whose config.toml
records other options than its variant's (another grid or --set) is refused before anything
runs, or moved to replaced/ and trained again with --retrain-changed (`kgan.sweep.recorded`).
"""

import collections
import csv
import ctypes
import io
import json
import os
import signal
import subprocess
import sys
import time

from kgan.atomic import write_text
from kgan.startup import Terminated
from kgan.run_folder import EVALUATION
from kgan.sweep.grid import variant_options
from kgan.sweep.recorded import difference, move_aside, recorded_options, refusal, shown

# A data source set on the command line replaces the grid's: `--set data-dir=DIR` points a
# grid that names a data set at a folder instead (and `--set dataset=NAME` the reverse).
DATA_SOURCES = ("dataset", "data-dir")

_PR_SET_PDEATHSIG = 1
STOP_TIMEOUT_S = 60  # how long an interrupted sweep waits for its child to stop


def recipe_arguments(options):
    """Command-line arguments for a recipe from a dict of dashed option names.

    `True` becomes a bare flag (`--no-skip`), `False` and `None` are left out (the flags
    default to off), other values become `--key value`.
    """
    argv = []
    for key, value in options.items():
        if value is True:
            argv.append(f"--{key}")
        elif value is not False and value is not None:
            argv += [f"--{key}", str(value)]
    return argv


def _die_with_parent():
    """In the child: ask Linux to SIGKILL it when the sweep process dies (a killed sweep
    must not leave a training process running on behind it)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass


def run_logged(command, log_path):
    """Run `command` with its output appended to `log_path`.

    Returns:
        (exit status, wall seconds, peak resident memory of the child in MiB, last line of
        its output).
    """
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    start = time.monotonic()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    with open(log_path, "a") as log:
        # A killed attempt can leave a progress bar without its newline.
        log.write(("\n" if log.tell() else "") + f"$ {' '.join(command)}\n")
        log.flush()
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                                   stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        try:
            _, status, usage = os.wait4(process.pid, 0)
        except KeyboardInterrupt as interrupt:
            _stop(process, interrupt)
            raise
        process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.monotonic() - start
    return process.returncode, seconds, usage.ru_maxrss / 1024, _last_line(log_path)


def _stop(process, interrupt):
    """Pass a Ctrl-C or SIGTERM the sweep got on to its child (a terminal's Ctrl-C reaches
    both; `kill -INT` only the sweep) and wait until the child has written its checkpoint
    or cleaned up; SIGKILL it after STOP_TIMEOUT_S."""
    stop = signal.SIGTERM if isinstance(interrupt, Terminated) else signal.SIGINT
    try:
        process.wait(timeout=2)  # a terminal's Ctrl-C: the child stops by itself
    except subprocess.TimeoutExpired:
        try:
            process.send_signal(stop)
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _last_line(path):
    with open(path, errors="replace") as f:
        lines = [line.strip() for line in f.readlines()[-50:] if line.strip()]
    return lines[-1] if lines else ""


class Sweep:
    """The runs of one grid in one sweep folder.

    Args:
        grid: a grid from `kgan.sweep.grid.load_grid`.
        out: the sweep folder.
        extra_options: options applied to every variant after the grid's (e.g. a precision
            policy chosen on the command line); dashed names. A data source among them
            (`data-dir` or `dataset`) replaces the grid's.
        qualitative: test examples in the qualitative figure.
        eval_images: score each variant on the first N test images (None: all).
        seeds: run every variant once per seed (list of int; None: the grid's `seeds`, and
            without those one run per variant in runs/<variant>/, as sweeps always did).
        feature_precision: the dtype policy of the scores' Inception features.
        retrain_changed: move a run whose config.toml differs from its variant's options to
            `replaced/` and train it again (default: refuse the whole sweep).
    """

    def __init__(self, grid, out, extra_options=None, qualitative=4, eval_images=None,
                 seeds=None, feature_precision="float32", retrain_changed=False):
        self.grid = grid
        self.retrain_changed = retrain_changed
        self.out = out
        self.extra_options = dict(extra_options or {})
        self.qualitative = qualitative
        self.eval_images = eval_images
        self.seeds = seeds if seeds is not None else grid.get("seeds")
        self.feature_precision = feature_precision
        self.state_path = os.path.join(out, "state.json")
        self.state = self._load_state()

    def _load_state(self):
        try:
            with open(self.state_path) as f:
                return json.load(f)
        except (FileNotFoundError, json.JSONDecodeError):
            return {}

    def _save_state(self):
        write_text(self.state_path, json.dumps(self.state, indent=1, sort_keys=True))

    def runs(self):
        """Every run as a `Run(variant, seed)`, variant by variant in grid order (seed None:
        the grid names no seeds)."""
        return [Run(name, seed) for name in self.grid["variants"] for seed in self.seeds or [None]]

    def run_dir(self, run):
        """runs/<variant>/, or runs/<variant>/seed<S>/ for a run of several seeds."""
        if run.seed is None:
            return os.path.join(self.out, "runs", run.variant)
        return os.path.join(self.out, "runs", run.variant, f"seed{run.seed}")

    def options(self, run):
        """The recipe options of a run (dashed keys), as it is trained."""
        grid = variant_options(self.grid, run.variant)
        if any(key in self.extra_options for key in DATA_SOURCES):
            grid = {k: v for k, v in grid.items() if k not in DATA_SOURCES}
        seed = {} if run.seed is None else {"seed": run.seed}
        return {**grid, **self.extra_options, **seed}

    def evaluation(self, run):
        """The run's evaluation.json as a dict, or None when it is not finished."""
        try:
            with open(os.path.join(self.run_dir(run), EVALUATION)) as f:
                return json.load(f)
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def run(self, print_fn=print):
        """Train and evaluate every unfinished variant, then write results.csv and the report.

        Returns:
            int: the number of runs that failed.
        """
        runs = self.runs()
        self._check_recorded_options(runs, print_fn)
        todo = [run for run in runs if self.evaluation(run) is None]
        seeds = f" x {len(self.seeds)} seeds" if self.seeds else ""
        print_fn(f"sweep {self.grid['title']}: {len(self.grid['variants'])} variants{seeds}, "
                 f"{len(runs) - len(todo)} already finished, writing {self.out}")
        spent = []
        for index, run in enumerate(runs, 1):
            if run not in todo:
                continue
            left = len(todo) - len(spent)
            eta = f", about {_minutes(sum(spent) / len(spent) * left)} left" if spent else ""
            print_fn(f"[{index}/{len(runs)}] {run.name}: training{eta}")
            start = time.monotonic()
            self._run_variant(run, print_fn)
            spent.append(time.monotonic() - start)
            self.write_results()
        self.write_results()
        failed = [r.name for r in runs if self.state.get(r.name, {}).get("status") == "failed"]
        from kgan.sweep.report import write_report  # matplotlib only when reporting

        md_path, html_path = write_report(self.out, self.grid)
        print_fn(f"wrote {os.path.join(self.out, 'results.csv')}, {md_path}, {html_path}"
                 + (f"; {len(failed)} failed: {', '.join(failed)}" if failed else ""))
        return len(failed)

    def _check_recorded_options(self, runs, print_fn):
        """Refuse (or, with `retrain_changed`, move aside) runs trained with other options."""
        changed = {}
        for run in runs:
            found = difference(self.options(run), self.run_dir(run))
            if found:
                changed[run] = found
        if changed and not self.retrain_changed:
            run, found = next(iter(changed.items()))
            raise refusal(run.name, self.run_dir(run), found, len(changed) - 1)
        for run, (key, wanted, recorded) in changed.items():
            target = move_aside(self.out, run.name.replace("/", "_"), self.run_dir(run))
            self.state.pop(run.name, None)
            print_fn(f"{run.name}: trained with {key} = {shown(recorded)}, not {shown(wanted)}: "
                     f"moved to {target}, training it again")
        if changed:
            self._save_state()

    def _run_variant(self, run, print_fn):
        run_dir = self.run_dir(run)
        log_path = os.path.join(self.out, "logs", f"{run.name.replace('/', '_')}.log")
        entry = self.state.setdefault(run.name, {})
        recipe = self.grid["recipes"][run.variant]
        train = [sys.executable, "-m", f"kgan.recipes.{recipe}",
                 *recipe_arguments(self.options(run)), "--out", run_dir]
        status, seconds, memory, last = run_logged(train, log_path)
        entry["seconds"] = round(entry.get("seconds", 0.0) + seconds, 1)
        entry["peak_memory_mb"] = round(max(entry.get("peak_memory_mb", 0.0), memory), 1)
        if status == 0:
            evaluate = [sys.executable, "-m", "kgan.sweep.evaluate_run", run_dir,
                        "--recipe", recipe, "--qualitative-dir",
                        os.path.join(self.out, "qualitative"),
                        "--qualitative", str(self.qualitative),
                        "--protocol", self.grid.get("protocol", "inference"),
                        "--feature-precision", self.feature_precision]
            if self.eval_images:
                evaluate += ["--eval-images", str(self.eval_images)]
            status, _, _, last = run_logged(evaluate, log_path)
        if status == 0:
            entry.update(status="done", error="")
            print_fn(f"    {run.name}: done in {_minutes(seconds)}")
        else:
            entry.update(status="failed", error=last[:500] or f"exit status {status}")
            print_fn(f"    {run.name}: failed ({entry['error']}); see {log_path}")
        self._save_state()

    def rows(self):
        """One dict per run, in grid order: the columns of results.csv."""
        rows = []
        for run in self.runs():
            entry = self.state.get(run.name, {})
            evaluation = self.evaluation(run)
            status = "done" if evaluation is not None else entry.get("status", "pending")
            row = {"variant": run.variant, "seed": "" if run.seed is None else run.seed,
                   "recipe": self.grid["recipes"][run.variant], "status": status,
                   "error": "" if status == "done" else entry.get("error", ""),
                   "seconds": entry.get("seconds", ""), "steps": "",
                   "peak_memory_mb": entry.get("peak_memory_mb", "")}
            # What the run recorded wins ("auto" precision is recorded as the one it chose).
            recorded = recorded_options(self.run_dir(run)) or {}
            row.update({f"option.{k}": recorded.get(k, v) for k, v in self.options(run).items()})
            if evaluation is not None:
                row["steps"] = evaluation.get("steps", "")
                if evaluation.get("steps") and entry.get("seconds"):
                    row["seconds_per_step"] = round(entry["seconds"] / evaluation["steps"], 4)
                row.update(evaluation_columns(evaluation))
            rows.append(row)
        return rows

    def write_results(self):
        """Write results.csv: every option and metric as a column, blanks where absent."""
        rows = self.rows()
        columns = []
        for row in rows:
            columns += [key for key in row if key not in columns]
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, columns, restval="")
        writer.writeheader()
        writer.writerows(rows)
        write_text(os.path.join(self.out, "results.csv"), buffer.getvalue())


class Run(collections.namedtuple("Run", "variant seed")):
    """One training run of a sweep: a variant and its seed (None: the grid has no seeds)."""

    @property
    def name(self):
        """`variant`, or `variant/seed<S>`: the run's key in state.json and the messages."""
        return self.variant if self.seed is None else f"{self.variant}/seed{self.seed}"


def evaluation_columns(evaluation):
    """results.csv's columns of an evaluation.json: how it was scored, then the final
    generator's metrics, then the best one's as `best.<key>` with `best.epoch` and
    `best.val_fid` (see `kgan.sweep.evaluate_run`)."""
    columns = {key: evaluation[key] for key in ("protocol", "feature_precision", "validation")
               if key in evaluation}
    columns.update(evaluation.get("metrics", {}))
    best = evaluation.get("best") or {}
    columns.update({f"best.{key}": best[key] for key in ("epoch", "val_fid") if key in best})
    columns.update({f"best.{key}": value for key, value in best.get("metrics", {}).items()})
    return columns


def _minutes(seconds):
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"
