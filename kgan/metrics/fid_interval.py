"""FID's sampling error over the test images: a bootstrap interval from the saved features.

A study's FID comes from 100-1000 test images, so two variants can differ by chance alone:
another draw of test images would give other scores. Resampling the generated and the real
feature sets with replacement, B times, and recomputing FID measures that spread.

Each bootstrap FID is computed in the space of the images, not of the features: with centred
features X [M, D] and Y [N, D], the nonzero eigenvalues of Cov(X) Cov(Y) are the squared
singular values of X Y^T / sqrt((M - 1)(N - 1)), so tr sqrt(Cov(X) Cov(Y)) is that matrix's
nuclear norm. That is the Frechet distance exactly, at O(M N D) instead of the O(D^3) of a
2048 x 2048 matrix square root, so 200 rounds take seconds on a CPU.

Resampling with replacement repeats images, which raises FID (it is biased in the number of
distinct images), so the bootstrap FIDs sit above the measured one. The interval is therefore
the measured FID plus the bootstrap's deviations from its own median: the spread, not the
level, is what the resampling measures.
"""

import numpy as np

ROUNDS = 200
CONFIDENCE = 0.95
SEED = 0


def frechet_distance_of_features(real, fake):
    """FID between two feature sets through their Gram matrix (exact; fast when M, N < D).

    Args:
        real: float [M, D] features, M >= 2.
        fake: float [N, D] features, N >= 2.

    Returns:
        float: ||mu_r - mu_f||^2 + tr C_r + tr C_f - 2 tr sqrt(C_r C_f), sample covariances.
    """
    real = np.asarray(real, np.float64)
    fake = np.asarray(fake, np.float64)
    real_mean, fake_mean = real.mean(0), fake.mean(0)
    real_centred, fake_centred = real - real_mean, fake - fake_mean
    scale = np.sqrt((len(real) - 1) * (len(fake) - 1))
    cross = np.linalg.svd(real_centred @ fake_centred.T / scale, compute_uv=False).sum()
    return float(np.sum((real_mean - fake_mean) ** 2)
                 + np.sum(real_centred ** 2) / (len(real) - 1)
                 + np.sum(fake_centred ** 2) / (len(fake) - 1) - 2 * cross)


def fid_interval(real_features, fake_features, rounds=ROUNDS, confidence=CONFIDENCE, seed=SEED):
    """A bootstrap interval for FID over the choice of test images.

    Args:
        real_features: float [M, D] (the reference images' pool3 features), M >= 2.
        fake_features: float [N, D] (the generated images'), N >= 2.
        rounds: bootstrap resamples B.
        confidence: the interval's coverage, e.g. 0.95.
        seed: the resampling's seed (the same features give the same interval).

    Returns:
        (low, high): floats around the measured FID (see the module docstring).

    Raises:
        ValueError: fewer than two images in a set, or mismatched feature sizes.
    """
    real = np.asarray(real_features, np.float64)
    fake = np.asarray(fake_features, np.float64)
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
        raise ValueError(f"need two [N, D] feature sets of one D, got {real.shape} and {fake.shape}")
    if min(len(real), len(fake)) < 2:
        raise ValueError(f"need at least two images per set, got {len(real)} and {len(fake)}")
    rng = np.random.default_rng(seed)
    samples = np.array([
        frechet_distance_of_features(real[rng.integers(0, len(real), len(real))],
                                     fake[rng.integers(0, len(fake), len(fake))])
        for _ in range(rounds)])
    tail = (1 - confidence) / 2 * 100
    low, middle, high = np.percentile(samples, [tail, 50, 100 - tail])
    measured = frechet_distance_of_features(real, fake)
    return float(measured + low - middle), float(measured + high - middle)
