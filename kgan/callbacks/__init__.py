"""Keras callbacks: resumable checkpoints, sample grids and evaluation metrics."""

from kgan.callbacks.checkpoint import ResumableCheckpoint, latest_checkpoint
from kgan.callbacks.sample_grid import SampleGrid, image_grid

__all__ = ["ResumableCheckpoint", "SampleGrid", "image_grid", "latest_checkpoint"]
