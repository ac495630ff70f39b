"""Evaluation metrics: FID, KID, improved precision/recall (Inception features), PSNR/SSIM.

The math (`frechet`, `kid`, `precision_recall`, `image_quality`) is separate from the network that
makes the features (`inception`), so it is testable and usable with any feature extractor.
"""

from kgan.metrics.evaluation import ImageSetMetrics, resolve_feature_extractor
from kgan.metrics.frechet import (FeatureStatistics, feature_statistics, frechet_distance,
                                  frechet_distance_from_features)
from kgan.metrics.image_quality import psnr, ssim
from kgan.metrics.inception import extract_features, inception_feature_extractor
from kgan.metrics.kid import kernel_inception_distance
from kgan.metrics.precision_recall import knn_radii, manifold_coverage, precision_recall

__all__ = [
    "FeatureStatistics", "ImageSetMetrics", "extract_features", "feature_statistics",
    "frechet_distance", "frechet_distance_from_features", "inception_feature_extractor",
    "kernel_inception_distance",
    "knn_radii", "manifold_coverage", "precision_recall", "psnr", "resolve_feature_extractor",
    "ssim",
]
