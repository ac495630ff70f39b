"""Helpers shared by the GAN models' training steps: the optimizers, loss scaling over replicas
and the loss scale, the fused discriminator call, and what differs between the backends."""

import keras


def on_tensorflow():
    """Whether Keras runs on TensorFlow (else JAX: see `kgan.models.jax_step`)."""
    return keras.backend.backend() == "tensorflow"


def default_optimizer():
    """Adam(2e-4, beta_1=0.5), the optimizer of pix2pix and CycleGAN: `FusedAdam` (its
    update is one TensorFlow kernel) on TensorFlow, Keras' Adam on JAX."""
    if not on_tensorflow():
        return keras.optimizers.Adam(learning_rate=2e-4, beta_1=0.5)
    from kgan.models.fused_adam import FusedAdam

    return FusedAdam(learning_rate=2e-4, beta_1=0.5)


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


class OptimizerPair:
    """The G and D optimizers as the one `model.optimizer` whose `variables` Keras' JAX
    trainer carries through the steps (G's, then D's). Not an optimizer: the models'
    steps apply each of the two to its own variables."""

    built = True

    def __init__(self, g_optimizer, d_optimizer):
        self.g_optimizer = g_optimizer
        self.d_optimizer = d_optimizer

    @property
    def variables(self):
        return self.g_optimizer.variables + self.d_optimizer.variables


def scale_for_replicas(loss):
    """Divide a per-replica loss by the replica count, so that the all-reduced (summed)
    gradients of a distribution strategy equal those of the global batch (TensorFlow's
    strategies; unchanged on JAX)."""
    if not on_tensorflow():
        return loss
    import tensorflow as tf

    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    return loss / replicas if replicas > 1 else loss


def scaled_loss(optimizer, loss):
    """`loss` as the optimizer differentiates it: divided over the replicas and multiplied by
    the loss scale. Compute it inside the tape."""
    return optimizer.scale_loss(scale_for_replicas(loss))


def apply_gradients(optimizer, tape, loss, variables):
    """Differentiate `loss` (from `scaled_loss`) w.r.t. `variables` and apply one step
    (TensorFlow: `tape` is a `tf.GradientTape`)."""
    grads = tape.gradient(loss, variables)
    optimizer.apply_gradients(zip(grads, variables))


def stop_gradient(nest):
    """`keras.ops.stop_gradient` on every tensor of a nest."""
    return keras.tree.map_structure(keras.ops.stop_gradient, nest)


def normalises_over_the_batch(network):
    """Whether `network` has a BatchNormalization layer: in training its output for one image
    depends on the other images of the batch."""
    return any(isinstance(layer, keras.layers.BatchNormalization)
               for layer in network._flatten_layers())


def real_and_fake_logits(discriminator, real, fake, fused):
    """`discriminator(real)` and `discriminator(fake)` in training mode.

    Fused, both batches go through one call, concatenated along the batch axis: the same
    arithmetic in half the kernel launches, with larger (faster) convolutions. Only for
    discriminators whose output per image does not depend on the batch (see
    `normalises_over_the_batch`): with batch norm, one call would normalise real and fake
    images with shared statistics, so they keep separate calls as in the papers' code.

    Args:
        discriminator: Keras model taking a tensor or a list of tensors.
        real, fake: its inputs (tensors or lists of tensors), the same batch size.
        fused: one call (True) or two.

    Returns:
        (real_logits, fake_logits).
    """
    if not fused:
        return discriminator(real, training=True), discriminator(fake, training=True)
    both = keras.tree.map_structure(lambda r, f: keras.ops.concatenate([r, f], axis=0), real, fake)
    logits = discriminator(both, training=True)
    count = keras.ops.shape(keras.tree.flatten(real)[0])[0]
    return logits[:count], logits[count:]
