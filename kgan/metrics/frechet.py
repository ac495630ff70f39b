"""Frechet distance between Gaussians fitted to features (FID when the features are Inception's).

Pure NumPy/SciPy math, separate from the network that makes the features: feature statistics
accumulate batch by batch in float64 (50k images never sit in memory at once), and the
distance follows the TTUR reference code, including its handling of ill-conditioned
covariances and round-off imaginary parts of the matrix square root.

Reference:
    Heusel et al., "GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash
    Equilibrium", NeurIPS 2017; code: https://github.com/bioinf-jku/TTUR (fid.py).
"""

import numpy as np
import scipy.linalg

from kgan.errors import KganError


class FeatureStatistics:
    """Running mean and covariance of feature vectors, one batch at a time, in float64.

    Batches are merged with Chan et al.'s pairwise update (per-batch centred sums), which
    stays accurate when the features have a large common offset, unlike sum/sum-of-squares.

    Args:
        dim: feature size D, or None to take it from the first batch.
    """

    def __init__(self, dim=None):
        self.dim = dim
        self.count = 0
        self._mean = None
        self._m2 = None  # sum of outer products of deviations from the mean, [D, D]

    def update(self, features):
        """Add a batch: array [N, D] (any float dtype)."""
        x = np.asarray(features, np.float64)
        if x.ndim != 2 or (self.dim is not None and x.shape[1] != self.dim):
            raise ValueError(f"features must be [N, {self.dim or 'D'}], got shape {x.shape}")
        if len(x) == 0:
            return
        self.dim = x.shape[1]
        n_b = len(x)
        mean_b = x.mean(axis=0)
        centred = x - mean_b
        m2_b = centred.T @ centred
        if self.count == 0:
            self.count, self._mean, self._m2 = n_b, mean_b, m2_b
            return
        n = self.count + n_b
        delta = mean_b - self._mean
        self._mean = self._mean + delta * (n_b / n)
        self._m2 = self._m2 + m2_b + np.outer(delta, delta) * (self.count * n_b / n)
        self.count = n

    @property
    def mean(self):
        """float64 [D]."""
        self._check(1)
        return self._mean

    @property
    def covariance(self):
        """float64 [D, D], unbiased (divides by N - 1, like np.cov)."""
        self._check(2)
        return self._m2 / (self.count - 1)

    def _check(self, needed):
        if self.count < needed:
            raise KganError(f"feature statistics need at least {needed} images, got {self.count}")


def feature_statistics(features):
    """Mean and covariance of features -> (float64 [D], float64 [D, D]).

    Args:
        features: array [N, D] (N >= 2), or an iterable of [n_i, D] batches.
    """
    stats = FeatureStatistics()
    if hasattr(features, "shape"):
        stats.update(features)
    else:
        for batch in features:
            stats.update(batch)
    return stats.mean, stats.covariance


def frechet_distance(mu1, sigma1, mu2, sigma2, eps=1e-6):
    """Frechet (2-Wasserstein) distance between N(mu1, sigma1) and N(mu2, sigma2).

    d^2 = ||mu1 - mu2||^2 + Tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^(1/2)).

    Args:
        mu1, mu2: means [D].
        sigma1, sigma2: covariances [D, D].
        eps: added to both diagonals when the square root of the product is not finite
            (singular covariances, e.g. fewer images than dimensions), as TTUR does.

    Returns:
        float: the squared distance (what "FID" reports), >= 0 up to round-off.

    Raises:
        KganError: the square root has an imaginary part beyond round-off (TTUR's check).
    """
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    sigma1 = np.atleast_2d(np.asarray(sigma1, np.float64))
    sigma2 = np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != mu1.shape * 2:
        raise ValueError(f"mismatched statistics: means {mu1.shape}, {mu2.shape}, "
                         f"covariances {sigma1.shape}, {sigma2.shape}")
    diff = mu1 - mu2
    covmean = scipy.linalg.sqrtm(sigma1 @ sigma2)
    if not np.isfinite(covmean).all():
        offset = np.eye(len(mu1)) * eps
        covmean = scipy.linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise KganError("FID's matrix square root has an imaginary part of "
                            f"{np.max(np.abs(covmean.imag)):.3g}: use more images than feature "
                            f"dimensions ({len(mu1)})")
        covmean = covmean.real
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean))


def frechet_distance_from_features(features_a, features_b):
    """FID-style distance between two feature sets [N_a, D] and [N_b, D] (N >= 2 each)."""
    return frechet_distance(*feature_statistics(features_a), *feature_statistics(features_b))
