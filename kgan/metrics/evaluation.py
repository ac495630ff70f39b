"""Accumulate FID, KID, precision/recall and PSNR/SSIM over batches of images.

The glue between a feature extractor and the pure metric math, shared by the Keras callback
(`kgan.callbacks.metrics`) and the `python -m kgan.evaluate` command line: feed batches of
real and generated images (float32 [N, H, W, 3] in [-1, 1]) and read one dict of numbers.
"""

import numpy as np

from kgan.metrics import image_quality
from kgan.metrics.frechet import FeatureStatistics, frechet_distance
from kgan.metrics.inception import (FEATURE_PRECISION, extract_features,
                                    inception_feature_extractor)
from kgan.metrics.kid import kernel_inception_distance
from kgan.metrics.precision_recall import precision_recall

# Images per batch when held-out images are translated and scored (the `--eval-every`
# callback and kgan.sweep.evaluate_run); the scores do not depend on it.
EVAL_BATCH_SIZE = 32


def resolve_feature_extractor(feature_extractor="fid", precision=FEATURE_PRECISION):
    """A callable images -> features from a weights name/file or a callable (returned as is).

    Args:
        feature_extractor: "fid", "imagenet", a `.weights.h5` path (see
            `inception_feature_extractor`), or a callable float32 [N, H, W, 3] in [-1, 1]
            -> [N, D] (e.g. a small Keras model for fast checks).
        precision: the dtype policy a network built here computes in (float32 by default).
    """
    if callable(feature_extractor):
        return feature_extractor
    return inception_feature_extractor(feature_extractor, precision=precision)


def extractor_precision(extractor):
    """The dtype policy name a feature extractor computes in ("float32" for plain callables)."""
    policy = getattr(extractor, "dtype_policy", None)
    return getattr(policy, "name", None) or "float32"


class FeatureSet:
    """Features of one image set: running statistics for FID, the vectors for KID and P/R.

    KID and precision/recall need every feature vector (float32, 8 KiB per image at
    D = 2048: 400 MiB for 50k images); FID only needs the float64 running statistics.

    Args:
        keep_features: keep the vectors (needed for KID and precision/recall).
    """

    def __init__(self, keep_features=True):
        self.statistics = FeatureStatistics()
        self.keep_features = keep_features
        self._features = []

    def update(self, features):
        """Add float [N, D] features."""
        features = np.asarray(features, np.float32)
        self.statistics.update(features)
        if self.keep_features:
            self._features.append(features)

    @property
    def count(self):
        return self.statistics.count

    @property
    def features(self):
        """float32 [N, D] (empty [0, 0] before any update)."""
        return np.concatenate(self._features) if self._features else np.zeros((0, 0), np.float32)


class ImageSetMetrics:
    """FID, KID, improved precision/recall and (for pairs) PSNR/SSIM of generated images.

    Args:
        feature_extractor: callable float32 [N, H, W, 3] in [-1, 1] -> [N, D], or a name
            for `resolve_feature_extractor` ("fid" by default: the FID Inception network).
        k: neighbourhood size for precision/recall (paper: 3).
        batch_size: images per feature-extractor call.
        precision_recall: also compute precision/recall.
        fid_method: "eigh" or "sqrtm" (TTUR's scipy path), see `frechet_distance`.
        kid: also compute KID (keeps all feature vectors, as precision/recall do).
        feature_precision: the dtype policy of a feature network built here (a given
            network or callable keeps its own); float32 by default.

    Usage: `update_real(images)` and `update_fake(images)` (any batches; the two sets may
    differ in size), `update_pairs(targets, outputs)` for paired tasks, then `result()`.
    """

    def __init__(self, feature_extractor="fid", k=3, batch_size=50, precision_recall=True,
                 fid_method="eigh", kid=True, feature_precision=FEATURE_PRECISION):
        self.feature_extractor = resolve_feature_extractor(feature_extractor, feature_precision)
        self.feature_precision = extractor_precision(self.feature_extractor)
        self.k = k
        self.batch_size = batch_size
        self.with_precision_recall = precision_recall
        self.with_kid = kid
        self.fid_method = fid_method
        self.real = FeatureSet(self._keep_features)
        self.fake = FeatureSet(self._keep_features)
        self._psnr, self._ssim = [], []

    @property
    def _keep_features(self):
        return self.with_precision_recall or self.with_kid

    def features(self, images):
        """float32 [N, D] features of float32 [N, H, W, 3] images in [-1, 1]."""
        return extract_features(self.feature_extractor, images, self.batch_size)

    def update_real(self, images):
        self.real.update(self.features(images))

    def update_fake(self, images):
        self.fake.update(self.features(images))

    def update_pairs(self, targets, outputs):
        """Add PSNR/SSIM of outputs vs targets, both float [N, H, W, 3] in [-1, 1]."""
        self._psnr.append(np.asarray(image_quality.psnr(targets, outputs), np.float64))
        self._ssim.append(np.asarray(image_quality.ssim(targets, outputs), np.float64))

    def reset_fake(self):
        """Forget generated images and pairs (keep the real set, e.g. between epochs)."""
        self.fake = FeatureSet(self._keep_features)
        self._psnr, self._ssim = [], []

    def result(self):
        """The metrics so far.

        Returns:
            dict: "fid"; "kid" and "kid_std" (NaN with one KID block, see
            `kernel_inception_distance`) when enabled; "precision", "recall" when enabled;
            "psnr" and "ssim" (mean over pairs, only when pairs were given); "num_real",
            "num_fake", "num_pairs"; "feature_precision" (the features' dtype policy).
        """
        real, fake = self.real.statistics, self.fake.statistics
        out = {"fid": frechet_distance(real.mean, real.covariance, fake.mean, fake.covariance,
                                       method=self.fid_method)}
        if self.with_kid:
            out["kid"], out["kid_std"] = kernel_inception_distance(self.real.features,
                                                                   self.fake.features)
        if self.with_precision_recall:
            out["precision"], out["recall"] = precision_recall(
                self.real.features, self.fake.features, k=self.k)
        if self._psnr:
            out["psnr"] = float(np.mean(np.concatenate(self._psnr)))
            out["ssim"] = float(np.mean(np.concatenate(self._ssim)))
        out.update(num_real=real.count, num_fake=fake.count,
                   num_pairs=int(sum(len(p) for p in self._psnr)),
                   feature_precision=self.feature_precision)
        return out
