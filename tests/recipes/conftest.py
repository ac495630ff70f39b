"""Fixtures of the recipe tests: the arguments of a run small enough for a CPU test."""

import pytest

# 32 px, 8 filters, 16x16 PatchGANs, two steps of one epoch, grids of two examples.
TINY = {"image-size": 32, "base-filters": 8, "patch": 16, "steps-per-epoch": 2, "epochs": 1,
        "samples": 2}
TINY_MODEL = {
    "pix2pix": {"batch-size": 4},
    "cyclegan": {"generator": "resnet6", "pool-size": 2},
    "cut": {"generator": "resnet6"},
}


def _tiny_args(recipe, **options):
    """Command-line arguments of a tiny run of `recipe` ("pix2pix", "cyclegan" or "cut").

    `options` (underscores for dashes) replace or add to the tiny ones: `epochs=2`,
    `out=path`, `jit_compile=True` for a flag, `steps_per_epoch=None` to leave one out.
    """
    values = {**TINY, **TINY_MODEL[recipe],
              **{key.replace("_", "-"): value for key, value in options.items()}}
    argv = []
    for key, value in values.items():
        if value is True:
            argv.append(f"--{key}")
        elif value is not None:
            argv += [f"--{key}", str(value)]
    return argv


@pytest.fixture(scope="session")
def tiny_args():
    """`tiny_args(recipe, **options)`: the argument list of a tiny run (see `_tiny_args`)."""
    return _tiny_args
