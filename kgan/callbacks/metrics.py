"""Evaluation during training: FID, KID, precision/recall and PSNR/SSIM in the epoch logs."""

import keras

from kgan.metrics import registry
from kgan.metrics.evaluation import ImageSetMetrics
from kgan.metrics.protocol import generate


class ImageMetricsCallback(keras.callbacks.Callback):
    """Every N epochs, translate a held-out set and put its metrics into `logs`.

    The keys (`val_precision`, `val_recall`, `val_fid`, `val_kid`, `val_psnr`, `val_ssim`
    with the default prefix, as `kgan.metrics.registry` lists them) reach History, CSVLogger, TensorBoard, EarlyStopping and
    `ModelCheckpoint(monitor="val_fid", mode="min")`, provided this callback comes before
    them in the `callbacks` list (Keras calls them in order). On epochs without an evaluation the
    keys are absent, so monitors should use `every_n_epochs=1` or expect Keras' "metric not
    available" warning on the others.

    The targets' features are computed once and reused: the dataset must yield the same
    targets each time (no shuffling or random augmentation).

    Args:
        dataset: iterable of (inputs, targets) batches, float32 [N, H, W, 3] in [-1, 1],
            e.g. a batched `tf.data.Dataset` of the test split. For unpaired tasks the
            targets are real images of the output domain (any number per batch) and
            `paired=False`.
        every_n_epochs: evaluate after epochs N, 2N, ...
        feature_extractor: "fid" (the FID Inception network), "imagenet", a weights file, or
            any callable images -> features [N, D] (see `ImageSetMetrics`).
        generator: the network that translates (default: the model being fit, whose call
            runs its generator, e.g. Pix2Pix or CycleGAN's A -> B).
        paired: also compute PSNR/SSIM of outputs vs targets.
        precision_recall: also compute improved precision/recall (k nearest neighbours)
            and KID.
        k: neighbourhood size for precision/recall.
        prefix: prefix of the log keys.
    """

    def __init__(self, dataset, every_n_epochs=1, feature_extractor="fid", generator=None,
                 paired=True, precision_recall=True, k=3, prefix="val_"):
        super().__init__()
        self.dataset = dataset
        self.every_n_epochs = every_n_epochs
        self.feature_extractor = feature_extractor
        self.generator = generator
        self.paired = paired
        self.precision_recall = precision_recall
        self.k = k
        self.prefix = prefix
        self._metrics = None  # built on first use: loading Inception takes seconds

    @property
    def log_keys(self):
        """The keys this callback writes into the logs on the epochs it evaluates."""
        names = registry.keys(self.paired, self.precision_recall)
        if not self.precision_recall:
            names.remove("kid")
        return [self.prefix + name for name in names]

    def evaluate(self):
        """Run the generator over the dataset; returns the metrics dict (unprefixed)."""
        if self._metrics is None:
            self._metrics = ImageSetMetrics(self.feature_extractor, k=self.k,
                                            precision_recall=self.precision_recall,
                                            kid=self.precision_recall)
        metrics = self._metrics
        metrics.reset_fake()
        generator = self.generator or self.model
        first_pass = metrics.real.count == 0
        for inputs, targets in self.dataset:
            outputs = generate(generator, inputs)
            metrics.update_fake(outputs)
            if first_pass:
                metrics.update_real(targets)
            if self.paired:
                metrics.update_pairs(targets, outputs)
        return metrics.result()

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_n_epochs:
            return
        results = self.evaluate()
        if logs is not None:
            for key in self.log_keys:
                logs[key] = results[key[len(self.prefix):]]
