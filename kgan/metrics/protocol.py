"""Test protocols: how a generator is run to produce the images that are scored.

- "inference": `generator(images, training=False)`: dropout off, batch normalisation with its
  moving statistics. What exports and `kgan.translate` compute, and kgan's default.
- "paper": as pix2pix's paper and its reference test script without `--eval` (and mmagic)
  score a generator: dropout on and batch normalisation with the statistics of the batch,
  one image per call (that script's batch size). The moving statistics the call would update
  are put back afterwards, so the model is unchanged. For networks without dropout and batch
  normalisation (instance norm: CycleGAN, CUT) both protocols give the same images.
"""

import keras
import numpy as np

PROTOCOLS = ("inference", "paper")


def _batch_norm_statistics(model):
    """The moving mean and variance variables of every BatchNormalization inside `model`."""
    found, stack = [], [model]
    while stack:
        layer = stack.pop()
        if isinstance(layer, keras.layers.BatchNormalization):
            found += [layer.moving_mean, layer.moving_variance]
        stack.extend(getattr(layer, "layers", []))
    return found


def generate(generator, images, protocol="inference"):
    """Translate a batch of images under a test protocol.

    Args:
        generator: a Keras model, float32 [N, H, W, 3] in [-1, 1] -> the same shape.
        images: float32 [N, H, W, 3] in [-1, 1] (array or tensor).
        protocol: "inference" or "paper" (see the module docstring).

    Returns:
        np.ndarray float32 [N, H, W, 3], roughly in [-1, 1].
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {', '.join(PROTOCOLS)}, got {protocol!r}")
    if protocol == "inference":
        return np.asarray(keras.ops.convert_to_numpy(generator(images, training=False)),
                          np.float32)
    statistics = _batch_norm_statistics(generator)
    saved = [keras.ops.convert_to_numpy(variable) for variable in statistics]
    try:
        outputs = [keras.ops.convert_to_numpy(generator(images[i:i + 1], training=True))
                   for i in range(len(images))]
    finally:
        for variable, value in zip(statistics, saved):
            variable.assign(value)
    return np.concatenate(outputs).astype(np.float32)
