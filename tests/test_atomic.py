"""kgan.atomic: the final name holds a complete file or nothing."""

import os

import pytest

from kgan.atomic import TEMPORARY_PREFIX, atomic_path, remove_temporaries, write_text


def test_a_successful_block_renames_into_place_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "sub" / "model.weights.h5"
    with atomic_path(target) as tmp:
        assert tmp.endswith("model.weights.h5") and os.path.dirname(tmp) == str(target.parent)
        with open(tmp, "w") as f:
            f.write("new")
    assert target.read_text() == "new"
    assert os.listdir(target.parent) == ["model.weights.h5"]


def test_a_failing_block_keeps_the_old_file_and_removes_the_temporary(tmp_path):
    target = tmp_path / "config.toml"
    write_text(target, "old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            with open(tmp, "w") as f:
                f.write("half")
            raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["config.toml"]


def test_leftovers_of_killed_writes_are_removed(tmp_path):
    (tmp_path / f"{TEMPORARY_PREFIX}abc-history.csv").write_text("half")
    (tmp_path / f"{TEMPORARY_PREFIX}def-export").mkdir()
    (tmp_path / "history.csv").write_text("kept")
    assert len(remove_temporaries(tmp_path)) == 2
    assert os.listdir(tmp_path) == ["history.csv"]
