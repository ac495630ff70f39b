"""Reconstruction losses between a target image and a generated one.

Signature of every loss: `loss(target, output) -> float32 scalar`, both tensors of the
same shape (images float32 [N, H, W, C] in [-1, 1]); the mean over all elements.
Any Keras loss (`keras.losses.MeanAbsoluteError()`) or plain function with that
signature can be used in their place.
"""

import keras
from keras import ops


def l1_loss(target, output):
    """Mean absolute error."""
    return ops.mean(ops.abs(ops.cast(target, "float32") - ops.cast(output, "float32")))


def l2_loss(target, output):
    """Mean squared error."""
    return ops.mean(ops.square(ops.cast(target, "float32") - ops.cast(output, "float32")))


@keras.saving.register_keras_serializable(package="kgan")
class L1L2:
    """Convex mix `l1_weight * L1 + (1 - l1_weight) * L2`.

    Args:
        l1_weight: float in [0, 1]; 1 is pure L1, 0 pure L2, 0.5 the even mix.
    """

    def __init__(self, l1_weight=0.5):
        if not 0.0 <= float(l1_weight) <= 1.0:
            raise ValueError(f"l1_weight must lie in [0, 1], got {l1_weight}")
        self.l1_weight = float(l1_weight)

    def __call__(self, target, output):
        return self.l1_weight * l1_loss(target, output) + (1.0 - self.l1_weight) * l2_loss(
            target, output
        )

    def get_config(self):
        return {"l1_weight": self.l1_weight}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"L1L2(l1_weight={self.l1_weight})"


@keras.saving.register_keras_serializable(package="kgan")
class L1(L1L2):
    """Mean absolute error, as a serialisable callable."""

    def __init__(self):
        super().__init__(l1_weight=1.0)

    def get_config(self):
        return {}

    def __repr__(self):
        return "L1()"


@keras.saving.register_keras_serializable(package="kgan")
class L2(L1L2):
    """Mean squared error, as a serialisable callable."""

    def __init__(self):
        super().__init__(l1_weight=0.0)

    def get_config(self):
        return {}

    def __repr__(self):
        return "L2()"
