"""Improved precision and recall of generated images (k-nearest-neighbour manifolds).

Each feature set approximates its manifold by the union of balls around its points, the
radius of each ball being the distance to that point's k-th nearest neighbour in its own
set. Precision is the fraction of generated points inside the real manifold (how realistic
the samples are); recall is the fraction of real points inside the generated manifold (how
much of the real variety is covered). Distances come in row blocks, so memory stays
bounded (about `max_block_elements` floats) however many images there are.

Reference:
    Kynkaanniemi et al., "Improved Precision and Recall Metric for Assessing Generative
    Models", NeurIPS 2019 (https://github.com/kynkaat/improved-precision-and-recall-metric).
"""

import numpy as np

from kgan.errors import KganError

DEFAULT_BLOCK_ELEMENTS = 1 << 24  # 64 MiB of float32 distances per block


def _rows_per_block(columns, max_block_elements):
    return max(1, int(max_block_elements) // max(1, columns))


def _squared_distances(rows, columns, column_norms):
    """||r - c||^2 for row block [B, D] x columns [M, D] -> float32 [B, M], clipped at 0."""
    row_norms = np.einsum("ij,ij->i", rows, rows)[:, None]
    d2 = row_norms - 2.0 * (rows @ columns.T) + column_norms[None, :]
    return np.maximum(d2, 0.0, out=d2)


def knn_radii(features, k=3, max_block_elements=DEFAULT_BLOCK_ELEMENTS):
    """Distance from each point to its k-th nearest neighbour in the same set.

    The point itself is the nearest "neighbour" at distance 0 and is not counted (as in the
    paper's code: an exact duplicate does count as a neighbour).

    Args:
        features: float [N, D], N > k.
        k: neighbourhood size (3 in the paper).
        max_block_elements: bound on the size of one block of pairwise distances.

    Returns:
        float32 [N] radii.
    """
    features = np.asarray(features, np.float32)
    if len(features) <= k:
        raise KganError(f"precision/recall with k={k} need more than {k} images per set, "
                        f"got {len(features)}")
    norms = np.einsum("ij,ij->i", features, features)
    rows = _rows_per_block(len(features), max_block_elements)
    radii = np.empty(len(features), np.float32)
    for start in range(0, len(features), rows):
        d2 = _squared_distances(features[start:start + rows], features, norms)
        radii[start:start + rows] = np.sqrt(np.partition(d2, k, axis=1)[:, k])
    return radii


def manifold_coverage(points, manifold, radii, max_block_elements=DEFAULT_BLOCK_ELEMENTS):
    """Fraction of `points` inside the union of balls B(manifold[j], radii[j]).

    Args:
        points: float [N, D].
        manifold: float [M, D], the ball centres.
        radii: float [M], from `knn_radii(manifold)`.

    Returns:
        float in [0, 1].
    """
    points = np.asarray(points, np.float32)
    manifold = np.asarray(manifold, np.float32)
    radii_sq = np.square(np.asarray(radii, np.float32))
    norms = np.einsum("ij,ij->i", manifold, manifold)
    rows = _rows_per_block(len(manifold), max_block_elements)
    inside = 0
    for start in range(0, len(points), rows):
        d2 = _squared_distances(points[start:start + rows], manifold, norms)
        inside += int(np.count_nonzero((d2 <= radii_sq[None, :]).any(axis=1)))
    return inside / len(points)


def precision_recall(real_features, fake_features, k=3,
                     max_block_elements=DEFAULT_BLOCK_ELEMENTS):
    """Improved precision and recall of fake features against real ones.

    Args:
        real_features: float [N_real, D], N_real > k.
        fake_features: float [N_fake, D], N_fake > k.
        k: nearest-neighbour count for the radii (paper: 3).
        max_block_elements: bound on one block of pairwise distances (memory).

    Returns:
        (precision, recall): floats in [0, 1].
    """
    real = np.asarray(real_features, np.float32)
    fake = np.asarray(fake_features, np.float32)
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
        raise ValueError(f"features must be [N, D] with the same D, got {real.shape} and {fake.shape}")
    real_radii = knn_radii(real, k, max_block_elements)
    fake_radii = knn_radii(fake, k, max_block_elements)
    precision = manifold_coverage(fake, real, real_radii, max_block_elements)
    recall = manifold_coverage(real, fake, fake_radii, max_block_elements)
    return precision, recall
