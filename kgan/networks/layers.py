"""Building blocks shared by the generators and discriminators."""

import keras

from kgan.errors import ConfigError

NORMS = ("batch", "instance", "none")
# The training sizes the generators take: the smallest their strides allow, the largest
# that fits a GPU at batch 1.
MIN_IMAGE_SIZE, MAX_IMAGE_SIZE = 32, 512


def conv_init():
    """Weight init of the pix2pix/CycleGAN papers: N(0, 0.02)."""
    return keras.initializers.RandomNormal(mean=0.0, stddev=0.02)


def normalization(kind, name=None):
    """Return a normalisation layer, or None for `kind="none"`.

    Args:
        kind: "batch" (BatchNorm over the global batch, replicas included; with batch size
            1 it acts like instance norm, as in pix2pix), "instance" (GroupNormalization with one group per channel), "none".
        name: layer name.
    """
    if kind == "batch":
        # momentum 0.9 and eps 1e-5 are PyTorch's BatchNorm defaults, used by the papers.
        # synchronized: under a tf.distribute strategy the statistics are those of the global
        # batch (all-reduced), as one process would compute them; without one it does
        # nothing. Keras offers it on TensorFlow only (other backends shard no batch here).
        return keras.layers.BatchNormalization(
            momentum=0.9, epsilon=1e-5, name=name,
            synchronized=keras.backend.backend() == "tensorflow")
    if kind == "instance":
        return keras.layers.GroupNormalization(groups=-1, epsilon=1e-5, name=name)
    if kind == "none":
        return None
    raise ConfigError(f"unknown norm {kind!r}: use one of {', '.join(NORMS)}")


def apply(x, *layers):
    """Apply the non-None layers in order."""
    for layer in layers:
        if layer is not None:
            x = layer(x)
    return x
