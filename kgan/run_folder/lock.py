"""An exclusive lock on a run folder while one process trains in it.

The lock is `flock(2)` on the folder itself (a read-only descriptor of the directory), so it
writes nothing into the folder (a refused command leaves it as it was) and the kernel releases
it when the process ends, however it ends: a SIGKILLed run leaves no stale lock behind.
"""

import fcntl
import os

from kgan.errors import KganError


class FolderInUseError(KganError):
    """Another process holds the lock of the folder."""


class FolderLock:
    """An exclusive, non-blocking lock on the folder `path`.

    Args:
        path: the folder; `acquire` locks it once it exists.
        what: the command-line option that named it, for the error line ("--out").
    """

    def __init__(self, path, what="--out"):
        self.path = path
        self.what = what
        self._fd = None

    @property
    def held(self):
        """Whether this process holds the lock."""
        return self._fd is not None

    def acquire(self):
        """Lock the folder if it exists and is not locked by this process already.

        Raises:
            FolderInUseError: another process (another training command) holds the lock.
        """
        if self._fd is not None or not os.path.isdir(self.path):
            return
        fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise FolderInUseError(
                f"{self.what} {self.path} is in use: another process is training in it; wait "
                f"for it to end (then rerun to resume or finish), or pass another {self.what}"
            ) from None
        self._fd = fd

    def release(self):
        """Unlock the folder (the kernel does it too when the process dies)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
