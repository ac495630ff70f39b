"""Users' folder layouts and the up-front image checks (kgan.data.folders)."""

import os

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from kgan.data import folders, paired_source
from kgan.errors import KganError


def _save(path, array, mode=None, fmt=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(array)
    if mode:
        image = image.convert(mode)
    image.save(path, format=fmt)
    return path


def _side_by_side(height, seed):
    """An A|B uint8 image: A constant 60 + noise, B constant 200 + noise."""
    rng = np.random.default_rng(seed)
    a = np.full((height, height, 3), 60, np.uint8) + rng.integers(0, 5, (height, height, 3), dtype=np.uint8)
    b = np.full((height, height, 3), 200, np.uint8) + rng.integers(0, 5, (height, height, 3), dtype=np.uint8)
    return np.concatenate([a, b], axis=1)


def _pairs(ds):
    return [(a.numpy(), b.numpy()) for a, b in ds]


def test_side_by_side_layout_mixed_formats(tmp_path, capsys):
    _save(tmp_path / "train" / "1.jpg", _side_by_side(16, 1))
    _save(tmp_path / "train" / "2.png", _side_by_side(24, 2), mode="RGBA")
    _save(tmp_path / "train" / "10.png", _side_by_side(16, 3), mode="L")
    _save(tmp_path / "train" / "3.png", _side_by_side(8, 4), mode="P")
    _save(tmp_path / "test" / "1.jpg", _side_by_side(16, 5))
    (tmp_path / "train" / "notes.txt").write_text("not an image, not listed")

    ds = paired_source(split="train", data_dir=str(tmp_path))
    assert int(ds.cardinality()) == 4
    pairs = _pairs(ds)
    assert [a.shape for a, _ in pairs] == [(16, 16, 3), (24, 24, 3), (8, 8, 3), (16, 16, 3)]
    for a, b in pairs:  # A is the dark left half, B the light right half, all RGB
        assert a.shape == b.shape and a.mean() < 100 < b.mean()
    assert "4 train A|B images" in capsys.readouterr().out
    # No val/ folder: "val" reads test/.
    assert int(paired_source(split="val", data_dir=str(tmp_path)).cardinality()) == 1
    assert folders.describe_folder(str(tmp_path)).endswith("A|B side by side layout, train 4, test 1")


def test_parallel_layout_matches_by_name(tmp_path):
    rng = np.random.default_rng(0)
    for name, size in (("x1", 16), ("x2", 20), ("x10", 12)):
        a = rng.integers(0, 255, (size, size, 3), dtype=np.uint8)
        _save(tmp_path / "A" / "train" / f"{name}.jpg", a)
        # B saved as PNG under the same name: a.jpg goes with a.png.
        _save(tmp_path / "B" / "train" / f"{name}.png", 255 - a, mode="L")
    ds = paired_source(split="train", data_dir=str(tmp_path))
    pairs = _pairs(ds)
    assert int(ds.cardinality()) == 3
    assert [a.shape[0] for a, _ in pairs] == [16, 20, 12]  # natural order x1, x2, x10
    assert all(b.shape[-1] == 3 for _, b in pairs)
    assert folders.paired_layout(str(tmp_path)) == "parallel"


def test_parallel_layout_mismatched_names(tmp_path):
    image = np.zeros((8, 8, 3), np.uint8)
    for name in ("1", "2", "3"):
        _save(tmp_path / "A" / "train" / f"{name}.jpg", image)
    for name in ("1", "4"):
        _save(tmp_path / "B" / "train" / f"{name}.jpg", image)
    with pytest.raises(KganError) as error:
        paired_source(split="train", data_dir=str(tmp_path))
    message = str(error.value)
    assert "do not match by file name" in message
    assert "2 only in A (2, 3)" in message and "1 only in B (4)" in message
    assert "\n" not in message


def test_empty_and_missing_folders(tmp_path):
    (tmp_path / "train").mkdir()
    with pytest.raises(KganError, match="holds no .jpg, .jpeg or .png files"):
        paired_source(split="train", data_dir=str(tmp_path))
    with pytest.raises(KganError, match="does not exist"):
        paired_source(split="train", data_dir=str(tmp_path / "nowhere"))
    with pytest.raises(KganError, match="no trainB/ folder"):
        folders.unpaired_folder_files(str(tmp_path), "B", "train")


def _broken_folder(root):
    for i in range(3):
        _save(root / "train" / f"{i}.jpg", _side_by_side(16, i))
    good = (root / "train" / "0.jpg").read_bytes()
    (root / "train" / "3.jpg").write_bytes(good[: len(good) // 2])  # truncated JPEG
    (root / "train" / "4.png").write_text("<html>not an image</html>")
    _save(root / "train" / "5.jpg", np.zeros((16, 16, 3), np.uint8))  # square: not A|B
    return root


def test_broken_files_stop_the_run_with_one_line(tmp_path):
    root = _broken_folder(tmp_path)
    with pytest.raises(KganError) as error:
        paired_source(split="train", data_dir=str(root))
    message = str(error.value)
    assert message.startswith(str(root / "train" / "3.jpg")) and "not a readable image" in message
    assert "(2 more bad files)" in message and "--on-bad-image skip" in message
    assert "\n" not in message
    problem = folders.check_image(str(root / "train" / "5.jpg"), side_by_side=True)
    assert problem == "is 16x16, not an A|B pair (width must be twice the height)"
    assert "not a readable image" in folders.check_image(str(root / "train" / "4.png"))


def test_broken_files_skipped_and_counted(tmp_path, capsys):
    root = _broken_folder(tmp_path)
    ds = paired_source(split="train", data_dir=str(root), on_bad_image="skip")
    assert int(ds.cardinality()) == 3
    out = capsys.readouterr().out
    assert len(_pairs(ds)) == 3  # the skipped files never reach tf.data
    assert "data: 3 train A|B images in" in out and "(skipped 3 bad files)" in out


def test_unpaired_layout(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(3):
        _save(tmp_path / "trainA" / f"{i}.jpg", rng.integers(0, 255, (20, 30, 3), dtype=np.uint8))
    _save(tmp_path / "trainB" / "grey.png", rng.integers(0, 255, (10, 10), dtype=np.uint8))
    _save(tmp_path / "trainB" / "rgba.png", rng.integers(0, 255, (12, 12, 4), dtype=np.uint8))
    (tmp_path / "trainB" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    images = [x.numpy() for x in folders.unpaired_folder_source(str(tmp_path), "A", "train")]
    assert [x.shape for x in images] == [(20, 30, 3)] * 3
    with pytest.raises(KganError, match="broken.jpg is not a readable image"):
        folders.unpaired_folder_source(str(tmp_path), "B", "train")
    ds = folders.unpaired_folder_source(str(tmp_path), "B", "train", on_bad_image="skip")
    assert sorted(x.shape for x in ds.as_numpy_iterator()) == [(10, 10, 3), (12, 12, 3)]


def test_recipe_stops_before_training_on_a_bad_file(tmp_path, capsys):
    from kgan.recipes import pix2pix

    root = _broken_folder(tmp_path / "data")
    _save(root / "val" / "1.jpg", _side_by_side(16, 9))
    argv = ["--data-dir", str(root), "--image-size", "32", "--base-filters", "8",
            "--batch-size", "2", "--epochs", "1", "--steps-per-epoch", "1",
            "--out", str(tmp_path / "run")]
    assert pix2pix.RECIPE.run_cli(argv) == 1
    captured = capsys.readouterr()
    assert "train 6, val 1" in captured.out  # what was found, printed first
    error_lines = captured.err.strip().splitlines()
    assert len(error_lines) == 1 and "3.jpg is not a readable image" in error_lines[0]
    assert not (tmp_path / "run" / "history.csv").exists()


@pytest.mark.parametrize("link", ["dangling", "loop"])
def test_broken_symlinks_are_bad_files_not_silently_skipped(tmp_path, link):
    folder = tmp_path / "trainA"
    folder.mkdir()
    _save(folder / "1.png", np.zeros((8, 8, 3), np.uint8))
    if link == "dangling":
        os.symlink(tmp_path / "gone.png", folder / "2.png")
    else:
        os.symlink(folder / "3.png", folder / "2.png")
        os.symlink(folder / "2.png", folder / "3.png")
    with pytest.raises(KganError, match="2.png .*symbolic link.*--on-bad-image skip"):
        folders.unpaired_folder_files(str(tmp_path), "A", "train")
    assert folders.unpaired_folder_files(str(tmp_path), "A", "train", "skip") == [
        str(folder / "1.png")]


def test_jpegs_decode_exactly_as_pillow_does(facades_dir):
    """The exact integer IDCT: the same pixels on every CPU (TF's default fast IDCT differs
    from Pillow by up to ~24 levels here, and between CPUs)."""
    for path in sorted((facades_dir / "test").glob("*.jpg"))[:3]:
        decoded = folders.decode_rgb(tf.io.read_file(str(path))).numpy()
        np.testing.assert_array_equal(decoded, np.asarray(Image.open(path).convert("RGB")))
