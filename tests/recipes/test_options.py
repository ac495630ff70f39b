"""kgan.recipes.options: --config files read as the flags would be, the reconstruction-loss
options, and the checks argparse cannot make."""

import argparse

import pytest

from kgan import losses
from kgan.errors import ConfigError
from kgan.recipes import pix2pix
from kgan.recipes.options import (MIN_EVAL_IMAGES, add_reconstruction_arguments, check_eval,
                                  parse_with_config, reconstruction_loss)


def parser():
    parser = argparse.ArgumentParser()
    parser.add_argument("--image-size", type=int, default=256)
    parser.add_argument("--norm", default="batch", choices=("batch", "instance"))
    parser.add_argument("--no-skip", action="store_true")
    parser.add_argument("--config")
    add_reconstruction_arguments(parser, "recon", "reconstruction", weight=100.0)
    return parser


def test_config_values_are_converted_and_checked_as_flags_and_flags_win(tmp_path):
    config = tmp_path / "run.toml"
    config.write_text('image_size = "64"\nno-skip = true\nrecon-loss = "l1+l2"\nrecon-mix = 0.25\n')
    options = parse_with_config(parser(), ["--config", str(config), "--norm", "instance"])
    assert (options.image_size, options.no_skip, options.norm) == (64, True, "instance")
    flag_wins = parse_with_config(parser(), ["--config", str(config), "--image-size", "32"])
    assert flag_wins.image_size == 32
    loss = reconstruction_loss(options, "recon")
    assert isinstance(loss, losses.L1L2) and loss.l1_weight == 0.25
    assert reconstruction_loss(parse_with_config(parser(), []), "recon") == "l1"


@pytest.mark.parametrize("text, message", [
    ("patch = 70", "unknown option 'patch'"),
    ("no-skip = 1", "no-skip must be true or false, got 1"),
    ('norm = "group"', "norm must be one of batch, instance, got 'group'"),
    ("recon-mix = 2.0", "recon-mix: "),
    ("image-size = [", "is not valid TOML"),
])
def test_bad_config_values_name_the_file_and_key(tmp_path, text, message):
    config = tmp_path / "run.toml"
    config.write_text(text + "\n")
    with pytest.raises(ConfigError, match=f"{config}.*{message}|{message}.*") as error:
        parse_with_config(parser(), ["--config", str(config)])
    assert str(config) in str(error.value)


def test_recipe_options_are_checked_after_parsing(tmp_path):
    with pytest.raises(ConfigError, match=r"--image-size must lie in \[32, 512\], got 16"):
        pix2pix.parse_args(["--image-size", "16"])
    with pytest.raises(ConfigError, match=r"--decay-epochs must lie in \[0, --epochs=4\]"):
        pix2pix.parse_args(["--epochs", "4", "--decay-epochs", "5"])
    options = pix2pix.parse_args(["--epochs", "5", "--data-dir", str(tmp_path / "facades")])
    assert options.decay_epochs == 2 and options.out.endswith("pix2pix_facades")
    options.eval_every, options.eval_images = 1, MIN_EVAL_IMAGES - 1
    with pytest.raises(ConfigError, match="--eval-images must be at least 4"):
        check_eval(options)
