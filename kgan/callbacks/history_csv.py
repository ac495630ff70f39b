"""The per-epoch history file of a run, with the same columns on every row across resumes."""

import keras

from kgan.run_folder import read_history, write_history


class HistoryCSV(keras.callbacks.CSVLogger):
    """`CSVLogger` that appends to `path` under one fixed set of columns.

    Keras' CSVLogger takes its columns from the first epoch it sees. A metric that only some
    epochs report (one evaluated every N epochs) is then never written when the first epoch
    lacks it, and a resumed run appending under a header with other columns shifts its values
    into the wrong columns. Here the columns are the union of the first epoch's log keys,
    `extra_keys` and the columns of the file's header; when that adds columns, the file is
    rewritten once with them. A value an epoch does not have is written as "NA".

    Args:
        path: the CSV file; rows are appended when it exists.
        extra_keys: log keys that only some epochs have (e.g. `val_fid` every N epochs).
    """

    def __init__(self, path, extra_keys=()):
        super().__init__(path, append=True)
        self.extra_keys = tuple(extra_keys)

    def on_epoch_end(self, epoch, logs=None):
        if self.keys is None:
            self.keys = self._columns(logs or {})
        super().on_epoch_end(epoch, logs)

    def _columns(self, logs):
        """The sorted columns (after "epoch"); rewrites the file when they add to its header."""
        rows = read_history(self.filename)
        header = rows[0][1:] if rows else []
        keys = sorted(set(logs) | set(self.extra_keys) | set(header))
        self.append_header = not rows
        if rows and header != keys:
            self.csv_file.close()
            write_history(self.filename, ["epoch", *keys],
                          [dict(zip(rows[0], row)) for row in rows[1:]])
            self.csv_file = open(self.filename, "a")
        return keys
