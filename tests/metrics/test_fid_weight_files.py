"""Converted FID weight files (`.weights.h5`: $KGAN_FID_WEIGHTS, the cache) are checked like
the published copies: the fingerprint, and one line naming the file for every bad one."""

import os
import pytest

from kgan import unet_generator
from kgan.errors import KganError
from kgan.metrics import inception


@pytest.fixture(scope="module")
def random_file(tmp_path_factory):
    """The FID Inception network with its random initial weights, as a `.weights.h5`."""
    path = tmp_path_factory.mktemp("fid") / "random.weights.h5"
    inception.fid_inception_network().save_weights(path)
    return path


def test_a_random_weight_fid_file_is_refused_by_its_fingerprint(random_file, monkeypatch):
    monkeypatch.setenv(inception.WEIGHTS_ENV, str(random_file))
    with pytest.raises(KganError) as error:
        inception.inception_feature_extractor("fid")
    message = str(error.value)
    assert message.startswith(f"{random_file} is not the FID Inception network: the fingerprint")
    assert "\n" not in message
    with pytest.raises(KganError, match="the fingerprint features differ"):
        inception.inception_feature_extractor(str(random_file))  # weights=FILE alike


def test_a_tampered_cache_is_refused_and_names_the_file(random_file, tmp_path, monkeypatch):
    monkeypatch.delenv(inception.WEIGHTS_ENV, raising=False)
    cached = tmp_path / inception.FID_WEIGHTS_NAME
    os.symlink(random_file, cached)
    with pytest.raises(KganError, match=f"^{cached} is not the FID Inception network: .*delete it"):
        inception.inception_feature_extractor("fid", cache=str(tmp_path))


def bad_file(kind, folder, random_file):
    path = folder / f"{kind}.weights.h5"
    if kind == "folder":
        path.mkdir()
    elif kind == "truncated":
        path.write_bytes(random_file.read_bytes()[:1_000_000])
    else:  # another network's weights
        unet_generator(base_filters=8).save_weights(path)
    return path


@pytest.mark.parametrize("kind, message", [
    ("folder", "FID weights file {path} is a folder; point to a .weights.h5"),
    ("truncated", "cannot read the FID weights file {path} (Unable to synchronously open file "
     "(truncated file"),
    ("other-network", "{path} is not the FID Inception network: its layers do not fit"),
])
def test_bad_fid_weight_files_are_one_line_naming_the_file(kind, message, random_file, tmp_path,
                                                          monkeypatch, capfd):
    path = bad_file(kind, tmp_path, random_file)
    monkeypatch.setenv(inception.WEIGHTS_ENV, str(path))
    capfd.readouterr()
    with pytest.raises(KganError) as error:
        inception.inception_feature_extractor("fid")
    assert str(error.value).startswith(message.format(path=path))
    # One line, and not Keras' message per layer that does not fit (about 190 lines before).
    assert "\n" not in str(error.value)
    assert len(capfd.readouterr().err.splitlines()) < 5
