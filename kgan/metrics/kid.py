"""Kernel Inception Distance (Binkowski et al., "Demystifying MMD GANs", ICLR 2018).

KID is the squared maximum mean discrepancy between two feature sets under the cubic
polynomial kernel k(x, y) = (x . y / d + 1)^3, estimated without bias. Unlike FID its
estimate does not depend on the number of images in expectation, which matters at the
100-1000 test images of the pix2pix and CycleGAN data sets.

As in TF-GAN's `kernel_classifier_distance_and_std_from_activations`, the images are split
into as few consecutive blocks of at most `max_block_size` as possible (the real and the
generated set into the same number of blocks, sizes differing by at most one); KID is the
mean of the blocks' estimates and its standard deviation the standard error of that mean.
With one block (up to 1000 images per set by default) there is no spread to report.
"""

import numpy as np


def _block_sizes(count, blocks):
    """`blocks` consecutive sizes adding up to `count`; the larger ones last (TF-GAN's split)."""
    small, extra = divmod(count, blocks)
    return [small] * (blocks - extra) + [small + 1] * extra


def _mmd_squared(real, fake):
    """Unbiased MMD^2 of two float64 [M, D], [N, D] blocks under the cubic kernel (M, N > 1)."""
    dim = real.shape[1]
    k_rr = (real @ real.T / dim + 1) ** 3
    k_ff = (fake @ fake.T / dim + 1) ** 3
    k_rf = (real @ fake.T / dim + 1) ** 3
    m, n = len(real), len(fake)
    return ((k_rr.sum() - np.trace(k_rr)) / (m * (m - 1))
            + (k_ff.sum() - np.trace(k_ff)) / (n * (n - 1))
            - 2 * k_rf.mean())


def kernel_inception_distance(real_features, fake_features, max_block_size=1000):
    """KID between two feature sets, with the standard error of its block estimates.

    Args:
        real_features: float [M, D] (pool3 features of the real images, D = 2048).
        fake_features: float [N, D] (of the generated images); M and N may differ.
        max_block_size: most images of either set in one block (TF-GAN uses 1024,
            clean-fid subsets of 1000).

    Returns:
        (kid, kid_std): floats; `kid_std` is NaN when there is only one block. KID can be
        slightly negative when the two sets come from one distribution (it is unbiased).

    Raises:
        ValueError: feature sizes differ, or a block would hold fewer than two images.
    """
    real = np.asarray(real_features, np.float64)
    fake = np.asarray(fake_features, np.float64)
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
        raise ValueError(f"KID needs two [N, D] feature sets of one D, got {real.shape} and "
                         f"{fake.shape}")
    blocks = -(-max(len(real), len(fake)) // max_block_size)
    if min(len(real), len(fake)) < 2 * blocks:
        raise ValueError(f"KID needs at least two images per block, got {len(real)} real and "
                         f"{len(fake)} generated images in {blocks} block(s)")
    real_ends = np.cumsum([0] + _block_sizes(len(real), blocks))
    fake_ends = np.cumsum([0] + _block_sizes(len(fake), blocks))
    estimates = np.array([
        _mmd_squared(real[real_ends[i]:real_ends[i + 1]], fake[fake_ends[i]:fake_ends[i + 1]])
        for i in range(blocks)])
    if blocks == 1:
        return float(estimates[0]), float("nan")
    return float(estimates.mean()), float(np.sqrt(estimates.var(ddof=1) / blocks))
