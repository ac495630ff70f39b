"""Keras callbacks: resumable checkpoints, the history file, sample grids and evaluation metrics."""

from kgan.callbacks.checkpoint import ResumableCheckpoint, latest_checkpoint
from kgan.callbacks.history_csv import HistoryCSV
from kgan.callbacks.metrics import ImageMetricsCallback
from kgan.callbacks.sample_grid import SampleGrid, image_grid

__all__ = [
    "HistoryCSV", "ImageMetricsCallback", "ResumableCheckpoint", "SampleGrid", "image_grid",
    "latest_checkpoint",
]
