"""A user's own registered adversarial loss functions, for the models' tests (the checks every
model passes are `tests/model_harness.py`)."""

import keras
import pytest
import tensorflow as tf

from kgan import losses


# A user's adversarial loss, as the README tells users to write one: module-level functions,
# registered so that a saved model finds them again. (Softplus form of the BCE objective.)
@keras.saving.register_keras_serializable(package="kgan_tests")
def softplus_generator_loss(fake_logits):
    return tf.reduce_mean(tf.nn.softplus(-tf.cast(fake_logits, tf.float32)))


@keras.saving.register_keras_serializable(package="kgan_tests")
def softplus_discriminator_loss(real_logits, fake_logits):
    real, fake = tf.cast(real_logits, tf.float32), tf.cast(fake_logits, tf.float32)
    return 0.5 * tf.reduce_mean(tf.nn.softplus(-real)) + 0.5 * tf.reduce_mean(tf.nn.softplus(fake))


@pytest.fixture
def registered_adversarial_loss():
    """`AdversarialLoss` built from two registered functions."""
    return losses.AdversarialLoss(softplus_generator_loss, softplus_discriminator_loss)
