"""A run folder's layout (the file names below `--out`) and `RunFolder`: preparing,
recording, locking and resuming a run, and its final generators and exports (the layout is
described in `kgan.run_folder`)."""

import json
import os
import shutil
import sys

from kgan.atomic import atomic_path, ensure_free_space, remove_temporaries, write_text
from kgan.errors import ConfigError
from kgan.run_folder.checkpoints import (broken_checkpoints, check_finite, checkpoint_candidates,
                                         latest_checkpoint, load_checkpoint, read_json_object,
                                         saved_bytes)
from kgan.run_folder.config import NOT_RECORDED, load_config, write_config
from kgan.run_folder.history import truncate_history
from kgan.run_folder.lock import FolderLock

CONFIG = "config.toml"
CHECKPOINTS = "checkpoints"
HISTORY = "history.csv"
SAMPLES = "samples"
LOGS = "logs"  # TensorBoard event files
EXPORTS = "exports.json"
BEST = "best"  # the generators of the lowest val_fid (kgan.callbacks.best_generator)
EVALUATION = "evaluation.json"  # test-split metrics, written by kgan.sweep.evaluate_run
MODEL = "model.json"  # the model's declarations (`model_declarations`)


class RunFolder:
    """The files of one run, below `path`.

    Args:
        path: the run folder (created by `record`).
    """

    def __init__(self, path):
        self.path = path
        self.created = False
        self.lock = FolderLock(path)

    def join(self, *names):
        return os.path.join(self.path, *names)

    @property
    def checkpoints(self):
        return self.join(CHECKPOINTS)

    @property
    def history(self):
        return self.join(HISTORY)

    @property
    def best(self):
        return self.join(BEST)

    @property
    def samples(self):
        return self.join(SAMPLES)

    @property
    def logs(self):
        return self.join(LOGS)

    def prepare(self, options, defaults, resumable):
        """Refuse to resume a run made with other options; clean up killed writes.

        Writes nothing but removes `.tmp-*` leftovers: `record` writes config.toml once the
        run is known to start, so a refused rerun leaves the folder as it was. An existing
        folder is locked first (`release` unlocks it); a new one when `record` creates it.
        Without config.toml (deleted by hand) the options are compared with those the newest
        checkpoint recorded.

        Args:
            options: the parsed options (an argparse namespace).
            defaults: option -> default value; an option missing from config.toml (left
                unset, or added to kgan since) counts as having had its default.
            resumable: the options that may differ from the run being resumed.

        Raises:
            ConfigError: `path` is a file, or the folder holds a checkpoint of a run made
                with other options, or one whose options are unknown (no config.toml, and
                checkpoints of an older kgan that did not record them).
            FolderInUseError: another process trains in the folder.
        """
        if os.path.islink(self.path) and not os.path.exists(self.path):
            raise ConfigError(f"--out {self.path} is a symbolic link to "
                              f"{os.readlink(self.path)}, which does not exist: create that "
                              "folder, or pass another --out")
        if os.path.exists(self.path) and not os.path.isdir(self.path):
            raise ConfigError(f"--out {self.path} is a file, not a folder: pass a folder")
        self.created = not os.path.exists(self.path)
        self.lock.acquire()
        for folder in (self.path, self.checkpoints, self.samples):
            remove_temporaries(folder)
        if not self.has_checkpoint():
            return
        saved = self._saved_options()
        for key, value in sorted(vars(options).items()):
            if key in resumable or key in NOT_RECORDED:
                continue
            before = saved.get(key.replace("_", "-"), defaults.get(key))
            if before != value:
                flag = "--" + key.replace("_", "-")
                raise ConfigError(
                    f"{self.path} holds a run made with {flag} {_shown(before)}, not "
                    f"{_shown(value)}: rerun with the same options to resume, or pass a new --out")

    def _saved_options(self):
        """The options of the run in the folder: config.toml, else the newest checkpoint's."""
        if os.path.exists(self.join(CONFIG)):
            return load_config(self.join(CONFIG))
        for _, _, state_path in checkpoint_candidates(self.checkpoints):
            options = state_path and read_json_object(state_path).get("options")
            if isinstance(options, dict):
                print(f"warning: {self.join(CONFIG)} is missing: comparing with the options "
                      "its newest checkpoint recorded", file=sys.stderr)
                return options
        raise ConfigError(
            f"config.toml missing: {self.path} holds checkpoints but not the options they were "
            f"trained with, so this command cannot be checked against them; put its "
            f"config.toml back (or write one with the run's options), or pass a new --out")

    def record(self, options, model=None):
        """Create and lock the folder, write config.toml (every option, unset ones as
        comments) and, given the run's `model`, model.json (`model_declarations`).

        Raises:
            FolderInUseError: another process created the folder and trains in it.
        """
        os.makedirs(self.path, exist_ok=True)
        self.lock.acquire()
        write_config(options, self.join(CONFIG))
        if model is not None:
            write_text(self.join(MODEL), json.dumps(model_declarations(model), indent=1))

    def discard(self):
        """Remove the folder if this run created it and wrote no checkpoint (a failed start).

        A folder this process does not hold the lock of (another run's) is never removed.
        """
        if self.created and self.lock.held and not self.has_checkpoint():
            shutil.rmtree(self.path, ignore_errors=True)

    def release(self):
        """Unlock the folder (at the end of the run; the kernel does it when a process dies)."""
        self.lock.release()

    def has_checkpoint(self):
        return bool(checkpoint_candidates(self.checkpoints))

    def latest_checkpoint(self, move_aside=False, restart=False):
        """The newest readable `Checkpoint` (None for a new run); an unreadable one is skipped
        with a warning for the one before it.

        Args:
            move_aside: rename an unreadable one to `broken_step_N` (the process that writes
                the folder; the rotation then never counts it, and nothing deletes it).
            restart: when the folder holds checkpoints and none is readable, return None
                (train from step 0) instead of refusing (`--restart`).

        Raises:
            ConfigError: no checkpoint is readable but some were written (unreadable ones,
                or ones moved aside before) and `restart` is False: the run would otherwise
                start over its own progress.
        """
        checkpoint = latest_checkpoint(self.checkpoints, move_aside)
        broken = broken_checkpoints(self.checkpoints)
        if checkpoint is None and (broken or self.has_checkpoint()) and not restart:
            shown = ", ".join(broken) or "its checkpoints"
            raise ConfigError(
                f"{self.path} holds no readable checkpoint ({shown} in {self.checkpoints} "
                f"cannot be read): not starting over its progress; pass --restart to train "
                f"again from step 0 in it (history.csv is rewritten, the broken checkpoints "
                f"are kept), or move the folder away")
        return checkpoint

    def resume(self, model, checkpoint, steps_per_epoch, write=True):
        """Load `checkpoint` into `model` and drop history rows written after it.

        Args:
            model: the compiled, built model.
            checkpoint: from `latest_checkpoint`, or None for a new run.
            steps_per_epoch: this run's; a checkpoint made with others is refused.
            write: truncate history.csv (False on a worker that only reads the folder).

        Returns:
            int: the optimizer steps already done (0 for a new run).

        Raises:
            ConfigError: the checkpoint does not fit the model (its optimizer state would be
                dropped) or the data gives another number of steps per epoch.
        """
        if checkpoint is None:
            if write:
                truncate_history(self.history, 0)
            return 0
        if checkpoint.steps_per_epoch not in (None, steps_per_epoch):
            raise ConfigError(
                f"{self.path} was trained with {checkpoint.steps_per_epoch} steps per epoch, "
                f"its data now gives {steps_per_epoch}: the training data changed; restore it, "
                f"pass --steps-per-epoch {checkpoint.steps_per_epoch}, or a new --out")
        load_checkpoint(model, checkpoint)
        step = checkpoint.epoch * steps_per_epoch if checkpoint.step is None else checkpoint.step
        if write:
            truncate_history(self.history, step // steps_per_epoch)
        print(f"resuming {self.path} at step {step} (epoch {step // steps_per_epoch + 1}, "
              f"batch {step % steps_per_epoch})")
        return step

    def save_generators(self, model, names):
        """Save `model.<name>` as `<name>.keras` for each name; returns the paths.

        Raises:
            NonFiniteError: a generator has a NaN or infinite weight (nothing is written).
            OSError: the disk has too little space for them (ENOSPC; nothing is written).
        """
        for name in names:
            check_finite(getattr(model, name), f"the final {name}")
        ensure_free_space(self.path, saved_bytes(
            [v for name in names for v in getattr(model, name).weights]))
        paths = []
        for name in names:
            path = self.join(f"{name}.keras")
            with atomic_path(path) as tmp:
                getattr(model, name).save(tmp)
            paths.append(path)
        return paths

    def saved_generators(self, known_exports=None):
        """`(export suffix, path)` of each final generator in the folder, in export order.

        Args:
            known_exports: {attribute: (suffix, description)} to look for in a folder of an
                older kgan, written before model.json declared its model's exports.
        """
        exports = read_json_object(self.join(MODEL)).get("exports") or known_exports or {}
        return [(suffix, self.join(f"{name}.keras")) for name, (suffix, _) in exports.items()
                if os.path.isfile(self.join(f"{name}.keras"))]

    def previous_export(self, name, base_dir, step):
        """The version folder `--export` wrote for `name` under `base_dir` after `step`
        steps, if it is still there; None otherwise."""
        entry = read_json_object(self.join(EXPORTS)).get(name, {})
        path = entry.get("path")
        same = entry.get("base") == os.path.abspath(base_dir) and entry.get("step") == step
        return path if same and path and os.path.isdir(path) else None

    def record_export(self, name, base_dir, step, path):
        """Remember that `name` was exported to `path` after `step` steps."""
        exports = read_json_object(self.join(EXPORTS))
        exports[name] = {"base": os.path.abspath(base_dir), "step": step,
                         "path": os.path.abspath(path)}
        write_text(self.join(EXPORTS), json.dumps(exports, indent=1, sort_keys=True))


def _shown(value):
    return "unset" if value is None else value


def model_declarations(model):
    """What model.json records of a run's model: its class name, the generators it exports
    ({attribute: [export suffix, description]}) and its loss curves ({panel: log key}), as
    the class declares them (`kgan.models.base.GANModel`)."""
    return {"model": type(model).__name__,
            "exports": {name: list(value) for name, value in model.EXPORTS.items()},
            "curves": dict(model.CURVES)}


def export_names(name, exports):
    """The model names `--export NAME` gives a model's `exports` ({attribute: (suffix,
    description)}), in order: e.g. NAME and NAME_BtoA."""
    return [name + suffix for suffix, _ in exports.values()]


