"""Experiment grids: one TOML file describes a study as a base run and named variants.

Format (see `recipes/study_*.toml`):

    recipe = "pix2pix"              # the kgan.recipes module that trains each variant
    title = "pix2pix on facades"    # optional, heads the report
    protocol = "paper"              # optional: how the test images are generated
                                    # (kgan.metrics.protocol; default "inference")
    seeds = [0, 1, 2]               # optional: train every variant once per seed
    [base]                          # options of that recipe, as in its --config files
    dataset = "facades"
    direction = "BtoA"
    [variants.l1]                   # an empty table is the base itself
    [variants.l2]
    recon-loss = "l2"
    [variants.cut]                  # a variant may train with another recipe
    recipe = "cut"
    [published.l1]                  # optional: the study's numbers, shown beside kgan's
    precision = 0.76
    recall = 0.39
    fid = 110.7

`protocol` and `seeds` are the sweep's, not the recipe's: the protocol is an evaluation
setting, and each seed becomes the recipe's `--seed`. Keys may use dashes or underscores; they
are normalised to dashes (a table that spells one key both ways is refused). Whether each
option is
known to the recipe is checked when the variant runs (the recipe refuses unknown keys).
"""

import re
import tomllib

from kgan.errors import ConfigError
from kgan.metrics.protocol import PROTOCOLS

# Variant names become folder names and report headings.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$")
_TOP_LEVEL = {"recipe", "title", "protocol", "seeds", "base", "variants", "published"}


def load_grid(path):
    """Read and check a grid file.

    Args:
        path: the TOML file.

    Returns:
        dict: `recipe` (str), `title` (str), `base` (dict), `variants` (dict name -> dict of
        overrides, in file order), `recipes` (dict name -> the recipe that trains it),
        `published` (dict name -> dict of metric -> float), `protocol` (str), `seeds` (list
        of int, or None: one run per variant with the recipe's seed, in runs/<variant>/).

    Raises:
        ConfigError: one line naming the file and what is wrong.
    """
    try:
        with open(path, "rb") as f:
            grid = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"grid file {path} does not exist") from None
    except IsADirectoryError:
        raise ConfigError(f"grid file {path} is a folder, not a TOML file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"grid file {path} is not valid TOML: {error}") from None
    unknown = set(grid) - _TOP_LEVEL
    if unknown:
        raise ConfigError(f"{path}: unknown key {sorted(unknown)[0]!r}; a grid has "
                          f"{', '.join(sorted(_TOP_LEVEL))}")
    recipe = grid.get("recipe")
    if not isinstance(recipe, str) or not re.fullmatch(r"[a-z0-9_]+", recipe):
        raise ConfigError(f"{path}: recipe must name a kgan recipe, e.g. recipe = \"pix2pix\"")
    base = _options(path, "base", grid.get("base", {}))
    variants = grid.get("variants")
    if not isinstance(variants, dict) or not variants:
        raise ConfigError(f"{path}: no [variants.NAME] tables; add one per run "
                          "([variants.base] with no keys runs the base itself)")
    for name in variants:
        if not _NAME.match(name):
            raise ConfigError(f"{path}: variant name {name!r} must be 1-64 letters, digits, "
                              "'_', '.', '+' or '-'")
    published = grid.get("published", {})
    for name, numbers in published.items():
        if name not in variants:
            raise ConfigError(f"{path}: [published.{name}] names no variant")
        for key, value in numbers.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigError(f"{path}: published.{name}.{key} must be a number")
    protocol = grid.get("protocol", "inference")
    if protocol not in PROTOCOLS:
        raise ConfigError(f"{path}: protocol must be one of {', '.join(PROTOCOLS)}, "
                          f"got {protocol!r}")
    seeded = [where for where, table in [("base", base), *variants.items()] if "seed" in table]
    if "seeds" in grid and seeded:
        raise ConfigError(f"{path}: seeds and {seeded[0]}.seed both set the seed; keep seeds")
    return {
        "recipe": recipe,
        "protocol": protocol,
        "seeds": check_seeds(grid.get("seeds"), f"{path}: seeds"),
        "title": str(grid.get("title", f"{recipe} sweep")),
        "base": base,
        "variants": {name: _options(path, f"variants.{name}", table)
                     for name, table in variants.items()},
        "recipes": {name: table.get("recipe", recipe) for name, table in variants.items()},
        "published": {name: {key: float(v) for key, v in numbers.items()}
                      for name, numbers in published.items()},
    }


def check_seeds(seeds, where):
    """`seeds` as a list of distinct ints (None stays None); ConfigError naming `where`."""
    if seeds is None:
        return None
    if (not isinstance(seeds, list) or not seeds
            or any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in seeds)
            or len(set(seeds)) != len(seeds)):
        raise ConfigError(f"{where} must be a list of distinct non-negative integers, e.g. "
                          f"[0, 1, 2], got {seeds!r}")
    return list(seeds)


def _options(path, where, table):
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [{where}] must be a table of options")
    options, spelled = {}, {}
    for key, value in table.items():
        if isinstance(value, (dict, list)):
            raise ConfigError(f"{path}: {where}.{key} must be a single value")
        if key == "recipe" and where.startswith("variants."):
            if not isinstance(value, str) or not re.fullmatch(r"[a-z0-9_]+", value):
                raise ConfigError(f"{path}: {where}.recipe must name a kgan recipe")
            continue
        if key.replace("_", "-") in ("out", "config"):
            raise ConfigError(f"{path}: {where}.{key} is set by the sweep; leave it out")
        if key in ("protocol", "seeds"):
            raise ConfigError(f"{path}: {where}.{key} is a setting of the whole grid: put it "
                              "at the top of the file, before [base]")
        dashed = key.replace("_", "-")
        if dashed in spelled:
            # TOML sees two keys; a dict would keep the last one without a word.
            raise ConfigError(f"{path}: [{where}] sets {dashed} twice, as {spelled[dashed]!r} "
                              f"and {key!r}; keep one")
        spelled[dashed] = key
        options[dashed] = value
    return options


def variant_options(grid, name):
    """The full options of one variant: the base updated with its overrides (dashed keys)."""
    return {**grid["base"], **grid["variants"][name]}
