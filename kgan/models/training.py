"""Helpers shared by the GAN models' `train_step`s, and the dtype policy they train under."""

import contextlib

import keras
import tensorflow as tf


@contextlib.contextmanager
def mixed_precision_policy(enabled):
    """Run the block under Keras' mixed_float16 policy when `enabled`; restore the old one after.

    Networks built inside compute in float16 with float32 weights; optimizers built by
    `build_optimizer` there get loss scaling.
    """
    previous = keras.mixed_precision.global_policy()
    if enabled:
        keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


def default_optimizer():
    """Adam(2e-4, beta_1=0.5), the optimizer of pix2pix and CycleGAN."""
    return keras.optimizers.Adam(learning_rate=2e-4, beta_1=0.5)


def build_optimizer(optimizer, variables):
    """Return a ready optimizer for `variables`: default when None, loss-scaled under a
    mixed-float16 policy, and built on the variables so that its state is saved and restored
    with the model from the first step on.

    Args:
        optimizer: a Keras optimizer or None (`default_optimizer()`).
        variables: list of the trainable variables it will update (of one or more networks).
    """
    optimizer = optimizer if optimizer is not None else default_optimizer()
    if keras.mixed_precision.global_policy().name == "mixed_float16" and not isinstance(
        optimizer, keras.optimizers.LossScaleOptimizer
    ):
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    if not optimizer.built:
        optimizer.build(variables)
    return optimizer


def scale_for_replicas(loss):
    """Divide a per-replica loss by the replica count, so that the all-reduced (summed)
    gradients of a distribution strategy equal those of the global batch."""
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    return loss / replicas if replicas > 1 else loss


def scaled_loss(optimizer, loss):
    """`loss` as the optimizer differentiates it: divided over the replicas and multiplied by
    the loss scale. Compute it inside the tape."""
    return optimizer.scale_loss(scale_for_replicas(loss))


def apply_gradients(optimizer, tape, loss, variables):
    """Differentiate `loss` (from `scaled_loss`) w.r.t. `variables` and apply one step."""
    grads = tape.gradient(loss, variables)
    optimizer.apply_gradients(zip(grads, variables))
