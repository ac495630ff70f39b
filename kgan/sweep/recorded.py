"""What each run of a sweep was trained with: its config.toml, against the variant's options.

A sweep folder may be rerun with another grid or other `--set` options. The recipe records
every option it trained with in the run's config.toml (`kgan.run_folder`); a run whose
recorded options differ from its variant's is neither counted as finished nor resumed, and
results.csv shows the recorded values, so that a row never claims options its run did not
train with.
"""

import os

from kgan.errors import ConfigError
from kgan.run_folder import CONFIG, EVALUATION, load_config

# Options whose grid value the recipe replaces by what it resolves to: "auto" precision is
# recorded as the precision it chose on that machine, so any recorded value matches "auto".
RESOLVED_BY_THE_RECIPE = {"precision": "auto"}
REPLACED = "replaced"  # <sweep>/replaced/<variant>.N: runs moved aside by --retrain-changed


def recorded_options(run_dir):
    """The options a run recorded (dashed keys; an unset option is absent), or None when the
    run folder has no config.toml (a run not started, or one of an older kgan)."""
    path = os.path.join(run_dir, CONFIG)
    return load_config(path) if os.path.isfile(path) else None


def _same(wanted, recorded):
    if recorded == wanted and type(recorded) is not bool and type(wanted) is not bool:
        return True  # 2 == 2.0; a bool is compared as a bool below
    if isinstance(wanted, bool) or isinstance(recorded, bool):
        return wanted is recorded or (wanted is False and recorded is None)
    return recorded is not None and str(recorded) == str(wanted)  # "32" in a grid, 32 recorded


def difference(options, run_dir):
    """The first option of `options` that the run in `run_dir` was trained with otherwise.

    Args:
        options: the variant's options (dashed keys) as the sweep would pass them.
        run_dir: the variant's run folder.

    Returns:
        (option, wanted, recorded) with `recorded` None for an option the run left unset, or
        None when every option agrees or the run has not recorded its options yet. A
        finished run (evaluation.json) without config.toml differs in ("config.toml", ...).
    """
    recorded = recorded_options(run_dir)
    if recorded is None:
        if os.path.isfile(os.path.join(run_dir, EVALUATION)):
            return ("config.toml", "the variant's options", None)
        return None
    for key, wanted in options.items():
        if RESOLVED_BY_THE_RECIPE.get(key) == wanted and key in recorded:
            continue
        if not _same(wanted, recorded.get(key)):
            return (key, wanted, recorded.get(key))
    return None


def shown(value):
    """A recorded or wanted option value as the message shows it (TOML-like)."""
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, str) else str(value)


def refusal(name, run_dir, found, others):
    """The ConfigError for variant `name` whose run differs from its options (`difference`)."""
    key, wanted, recorded = found
    if key == "config.toml":
        what = f"{run_dir} is evaluated but has no config.toml, so what it trained with is unknown"
    else:
        what = (f"{run_dir} was trained with {key} = {shown(recorded)}, the grid and --set "
                f"now give {key} = {shown(wanted)}")
    more = f" ({others} more variants differ)" if others else ""
    return ConfigError(
        f"sweep variant {name}: {what}{more}: rerun with the grid and --set options it was "
        "trained with, pass a new --out, or add --retrain-changed to move the differing runs "
        f"aside (to {REPLACED}/) and train them again")


def move_aside(out, name, run_dir):
    """Move a run folder to `<out>/replaced/<name>.N` (N: the first free number); returns it."""
    folder = os.path.join(out, REPLACED)
    os.makedirs(folder, exist_ok=True)
    number = 1
    while os.path.lexists(os.path.join(folder, f"{name}.{number}")):
        number += 1
    target = os.path.join(folder, f"{name}.{number}")
    os.rename(run_dir, target)
    return target
