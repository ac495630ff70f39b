"""--upsample and --downsample: each recipe's default, the networks they build, the grids."""

import os

import pytest

from kgan.errors import ConfigError
from kgan.networks import BinomialUpsample2D, BlurDownsample2D
from kgan.recipes import cut, cyclegan, pix2pix
from kgan.sweep.grid import load_grid, variant_options
from kgan.sweep.runner import recipe_arguments

from helpers import read_history

RECIPES = {"pix2pix": pix2pix, "cyclegan": cyclegan, "cut": cut}
RECIPES_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "recipes")


def layer_kinds(model):
    return {type(layer) for layer in model.layers}


@pytest.mark.parametrize("recipe, argv, expected", [
    (pix2pix, [], ("transpose", "strided")),  # the papers'
    (cyclegan, [], ("transpose", "strided")),
    (cut, [], ("antialias", "antialias")),  # the CUT code's
    (cut, ["--mode", "fastcut"], ("antialias", "antialias")),
    (cut, ["--upsample", "transpose", "--downsample", "strided"], ("transpose", "strided")),
])
def test_defaults_are_each_papers_sampling(recipe, argv, expected):
    options = recipe.parse_args(argv)
    assert (options.upsample, options.downsample) == expected


def test_cut_builds_the_papers_antialiased_networks(tiny_args):
    model = cut.build_model(cut.parse_args(tiny_args("cut")), steps_per_epoch=1)
    assert {BinomialUpsample2D, BlurDownsample2D} <= layer_kinds(model.generator)
    assert BlurDownsample2D in layer_kinds(model.discriminator)
    plain = cut.build_model(cut.parse_args(tiny_args("cut", upsample="transpose",
                                                     downsample="strided")), steps_per_epoch=1)
    assert not {BinomialUpsample2D, BlurDownsample2D} & (
        layer_kinds(plain.generator) | layer_kinds(plain.discriminator))


def test_a_cut_folder_of_an_older_kgan_resumes_only_with_its_sampling(unpaired_dir, tmp_path,
                                                                     tiny_args):
    # Before the options existed CUT trained CycleGAN's sampling; its config.toml lacks them.
    out = tmp_path / "run"
    run = dict(data_dir=unpaired_dir, out=out, mode="fastcut")
    older = dict(upsample="transpose", downsample="strided")
    assert cut.main(tiny_args("cut", **run, **older)) == 0
    config = out / "config.toml"
    lines = config.read_text().splitlines(keepends=True)
    config.write_text("".join(l for l in lines if not l.startswith(("upsample", "downsample"))))
    # Refused before any training, naming what to pass (the first differing option).
    with pytest.raises(ConfigError, match="--downsample strided, not antialias: rerun with"):
        cut.main(tiny_args("cut", epochs=2, **run))
    assert [row["epoch"] for row in read_history(out)] == ["0"]


@pytest.mark.parametrize("recipe, generator", [("pix2pix", "generator"),
                                               ("cyclegan", "generator_ab")])
def test_options_from_a_config_file_reach_generator_and_discriminator(recipe, generator,
                                                                      tmp_path, tiny_args):
    config = tmp_path / "sampling.toml"
    config.write_text('upsample = "resize"\ndownsample = "antialias"\n')
    module = RECIPES[recipe]
    model = module.build_model(module.parse_args(tiny_args(recipe) + ["--config", str(config)]),
                               steps_per_epoch=1)
    names = [layer.name for layer in getattr(model, generator).layers]
    assert "up0_upsample" in names and "down0_blur" in names
    assert not {BinomialUpsample2D} & layer_kinds(getattr(model, generator))
    discriminator = model.discriminator if recipe == "pix2pix" else model.discriminator_a
    assert BlurDownsample2D in layer_kinds(discriminator)


def test_an_unknown_choice_exits_2_naming_the_option(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        pix2pix.RECIPE.run_cli(["--upsample", "bilinear", "--out", str(tmp_path / "r")])
    assert exit_.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert "--upsample" in last and "'bilinear'" in last
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("grid_file", ["study_upsampling_bluemarble_cpu.toml",
                                       "study_upsampling_horse2zebra_cpu.toml"])
def test_upsampling_grids_parse_into_their_variants_options(grid_file, tmp_path):
    grid = load_grid(os.path.join(RECIPES_DIR, grid_file))
    assert list(grid["variants"]) == ["transpose", "resize", "antialias", "antialias-both"]
    sampling = []
    for name, recipe in grid["recipes"].items():
        argv = recipe_arguments(variant_options(grid, name)) + ["--out", str(tmp_path / name)]
        options = RECIPES[recipe].parse_args(argv)
        sampling.append((options.upsample, options.downsample))
        assert options.image_size == 64
    assert sampling == [("transpose", "strided"), ("resize", "strided"),
                        ("antialias", "strided"), ("antialias", "antialias")]
