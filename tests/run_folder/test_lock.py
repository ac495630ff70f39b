"""kgan.run_folder.lock: one holder at a time (flock on the folder itself), released on
release() or when the holder's file goes away; no folder, nothing to lock."""

import pytest

from kgan.run_folder.lock import FolderInUseError, FolderLock


def test_a_second_holder_is_refused_until_the_first_releases(tmp_path):
    first, second = FolderLock(str(tmp_path)), FolderLock(str(tmp_path), what="--export-base")
    first.acquire()
    first.acquire()  # already held by this one: nothing happens
    with pytest.raises(FolderInUseError, match=f"--export-base {tmp_path} is in use"):
        second.acquire()
    assert first.held and not second.held
    first.release()
    second.acquire()
    assert second.held and list(tmp_path.iterdir()) == []  # nothing written into the folder
    second.release()


def test_a_missing_folder_is_not_locked(tmp_path):
    lock = FolderLock(str(tmp_path / "later"))
    lock.acquire()
    assert not lock.held
