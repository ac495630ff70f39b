"""Keras callbacks: resumable checkpoints, the best generator by validation FID, the history file, sample grids, evaluation metrics
and TensorBoard logs."""

from kgan.callbacks.best_generator import BestGenerator
from kgan.callbacks.checkpoint import FiniteLossGuard, ResumableCheckpoint
from kgan.callbacks.cycle_samples import CycleSamples
from kgan.callbacks.history_csv import HistoryCSV
from kgan.callbacks.metrics import ImageMetricsCallback
from kgan.callbacks.sample_grid import SampleGrid, image_grid
from kgan.callbacks.tensorboard import TensorBoardLogger
from kgan.run_folder import latest_checkpoint

__all__ = [
    "BestGenerator", "CycleSamples", "FiniteLossGuard", "HistoryCSV", "ImageMetricsCallback", "ResumableCheckpoint",
    "SampleGrid", "TensorBoardLogger", "image_grid", "latest_checkpoint",
]
