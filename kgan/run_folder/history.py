"""A run's history.csv: one row of losses and metrics per epoch, "epoch" first; rows of
epochs after the checkpoint a run resumes from are dropped."""

import csv
import os
import sys

from kgan.atomic import atomic_path


def read_history(path):
    """The rows of a history CSV as lists of strings (header first); [] when absent."""
    if not os.path.exists(path):
        return []
    with open(path, newline="") as f:
        return [row for row in csv.reader(f) if row]


def write_history(path, columns, rows):
    """Write a history CSV with `columns` ("epoch" first); `rows` are dicts, missing keys "NA"."""
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, columns, restval="NA")
        writer.writeheader()
        writer.writerows(rows)


def truncate_history(path, epochs_done):
    """Drop the rows of epochs after the checkpoint (written before a crash) from history.csv."""
    rows = read_history(path)
    if rows:
        kept = [dict(zip(rows[0], row)) for row in rows[1:] if _epoch(row) < epochs_done]
        write_history(path, rows[0], kept)


def _epoch(row):
    try:
        return int(row[0])
    except ValueError:
        return sys.maxsize  # a damaged row is dropped
