"""kgan.run_folder.config: config.toml records every option (unset ones as comments) and reads
back as the same values; bad files are one-line errors naming them."""

import argparse

import pytest

from kgan.errors import ConfigError
from kgan.run_folder.config import load_config, write_config


def test_a_written_config_reads_back_and_leaves_unset_and_unrecorded_options_out(tmp_path):
    options = argparse.Namespace(image_size=64, lr=2e-4, no_skip=True, data_dir=None,
                                 out='runs/a "b"\\c', config="old.toml", restart=True)
    path = tmp_path / "config.toml"
    write_config(options, path)
    assert "# data-dir: unset" in path.read_text()
    assert load_config(path) == {"image-size": 64, "lr": 2e-4, "no-skip": True,
                                 "out": 'runs/a "b"\\c'}


@pytest.mark.parametrize("setup, message", [
    (lambda p: None, "does not exist"),
    (lambda p: p.mkdir(), "is a folder: pass a .toml file"),
    (lambda p: p.write_text("epochs = [\n"), "is not valid TOML"),
    (lambda p: p.write_bytes(b"\xff\xfe"), "is not valid TOML"),
])
def test_bad_config_files_are_one_line_errors(tmp_path, setup, message):
    path = tmp_path / "run.toml"
    setup(path)
    with pytest.raises(ConfigError, match=message) as error:
        load_config(path)
    assert str(path) in str(error.value) and "\n" not in str(error.value)
