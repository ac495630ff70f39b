"""Loss values against numbers computed by hand; saving user losses or refusing them."""

import json
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from kgan import losses
from kgan.errors import ConfigError, KganError


def softplus(x):
    return math.log1p(math.exp(x))


REAL = np.array([[2.0, -1.0], [0.5, 0.0]], np.float32).reshape(1, 2, 2, 1)
FAKE = np.array([[-3.0, 1.0], [0.0, 2.0]], np.float32).reshape(1, 2, 2, 1)


def test_bce_losses_match_hand_computation():
    # -log sigmoid(x) = softplus(-x); -log(1 - sigmoid(x)) = softplus(x)
    g = np.mean([softplus(-v) for v in FAKE.ravel()])
    d = 0.5 * (np.mean([softplus(-v) for v in REAL.ravel()]) + np.mean([softplus(v) for v in FAKE.ravel()]))
    assert float(losses.bce_generator_loss(FAKE)) == pytest.approx(g, rel=1e-6)
    assert float(losses.bce_discriminator_loss(REAL, FAKE)) == pytest.approx(d, rel=1e-6)


def test_lsgan_losses_match_hand_computation():
    # fake: (-4)^2, 0^2, (-1)^2, 1^2 -> mean 4.5 ; real-1: 1, -2, -0.5, -1 -> squares 1,4,.25,1
    assert float(losses.lsgan_generator_loss(FAKE)) == pytest.approx(4.5)
    d = 0.5 * ((1 + 4 + 0.25 + 1) / 4 + (9 + 1 + 0 + 4) / 4)
    assert float(losses.lsgan_discriminator_loss(REAL, FAKE)) == pytest.approx(d)


def test_hinge_losses_match_hand_computation():
    # FAKE's mean is 0, which a flipped sign would match too; REAL's is 0.375.
    assert float(losses.hinge_generator_loss(REAL)) == pytest.approx(-0.375)
    # relu(1 - real): 0, 2, 0.5, 1 -> 0.875 ; relu(1 + fake): 0, 2, 1, 3 -> 1.5
    assert float(losses.hinge_discriminator_loss(REAL, FAKE)) == pytest.approx(0.5 * (0.875 + 1.5))


def test_reconstruction_losses_match_hand_computation():
    target = np.array([0.0, 1.0, -1.0, 0.5], np.float32)
    output = np.array([0.5, 1.0, 0.0, -0.5], np.float32)
    # |diff| = .5, 0, 1, 1 -> 0.625 ; diff^2 = .25, 0, 1, 1 -> 0.5625
    assert float(losses.get_reconstruction("l1")(target, output)) == pytest.approx(0.625)
    assert float(losses.get_reconstruction("l2")(target, output)) == pytest.approx(0.5625)
    assert float(losses.get_reconstruction("l1+l2")(target, output)) == pytest.approx(0.59375)
    assert float(losses.L1L2(0.25)(target, output)) == pytest.approx(0.25 * 0.625 + 0.75 * 0.5625)


def test_losses_accept_any_logit_rank_and_float16():
    flat = tf.constant([0.3, -0.2], tf.float16)
    grid = tf.reshape(tf.constant([0.3, -0.2], tf.float16), (1, 1, 2, 1))
    for name in losses.ADVERSARIAL:
        loss = losses.get_adversarial(name)
        a, b = loss.generator_loss(flat), loss.generator_loss(grid)
        assert a.dtype == tf.float32 and float(a) == pytest.approx(float(b))


def test_unknown_names_raise_config_errors():
    with pytest.raises(ConfigError, match="unknown adversarial loss 'wgan'"):
        losses.get_adversarial("wgan")
    with pytest.raises(ConfigError, match="unknown reconstruction loss 'l3'"):
        losses.get_reconstruction("l3")


def test_custom_adversarial_loss_from_two_functions():
    custom = losses.AdversarialLoss(
        generator_loss=lambda fake: tf.reduce_mean(fake),
        discriminator_loss=lambda real, fake: tf.reduce_mean(real) - tf.reduce_mean(fake),
    )
    assert losses.get_adversarial(custom) is custom
    assert float(custom.discriminator_loss(REAL, FAKE)) == pytest.approx(REAL.mean() - FAKE.mean())


@keras.saving.register_keras_serializable(package="kgan_tests")
def mean_generator_loss(fake_logits):
    return -tf.reduce_mean(fake_logits)


@keras.saving.register_keras_serializable(package="kgan_tests")
def mean_difference_discriminator_loss(real_logits, fake_logits):
    return tf.reduce_mean(fake_logits) - tf.reduce_mean(real_logits)


def test_adversarial_loss_of_registered_functions_round_trips():
    loss = losses.AdversarialLoss(mean_generator_loss, mean_difference_discriminator_loss)
    config = json.loads(json.dumps(losses.serialize(loss, "adversarial_loss")))
    restored = keras.saving.deserialize_keras_object(config)
    assert restored.functions == loss.functions
    assert float(restored.generator_loss(REAL)) == pytest.approx(-0.375)
    assert float(restored.discriminator_loss(REAL, FAKE)) == pytest.approx(-0.375)


def not_registered(target, output):
    return tf.reduce_mean(target - output)


@keras.saving.register_keras_serializable(package="kgan_tests")
class Wasserstein(losses.AdversarialLoss):
    """A registered subclass: saved by its name, nothing else."""

    def generator_loss(self, fake_logits):
        return -tf.reduce_mean(fake_logits)

    def discriminator_loss(self, real_logits, fake_logits):
        return tf.reduce_mean(fake_logits) - tf.reduce_mean(real_logits)


class UnregisteredWasserstein(Wasserstein):
    pass


@pytest.mark.parametrize("loss, name", [
    (not_registered, "not_registered"),
    (lambda target, output: tf.reduce_mean(target - output), "<lambda>"),
    (losses.AdversarialLoss(not_registered, mean_difference_discriminator_loss), "not_registered"),
    (losses.AdversarialLoss(mean_generator_loss, lambda real, fake: real), "<lambda>"),
    (UnregisteredWasserstein(), "UnregisteredWasserstein"),
])
def test_a_loss_that_would_not_load_back_is_refused_naming_what_to_register(loss, name):
    with pytest.raises(KganError, match="register_keras_serializable") as error:
        losses.serialize(loss, "some_loss")
    message = str(error.value)
    assert "\n" not in message and message.startswith("cannot save some_loss '")
    assert f"{name}'" in message


@pytest.mark.parametrize("loss", [
    losses.L1L2(0.3), losses.Hinge(), Wasserstein(), keras.losses.MeanAbsoluteError(),
])
def test_kgan_keras_and_registered_losses_serialize(loss):
    config = json.loads(json.dumps(losses.serialize(loss, "some_loss")))
    restored = keras.saving.deserialize_keras_object(config)
    assert type(restored) is type(loss)
    if isinstance(loss, losses.AdversarialLoss):
        assert float(restored.generator_loss(REAL)) == pytest.approx(float(loss.generator_loss(REAL)))
    else:
        assert float(restored(REAL, FAKE)) == pytest.approx(float(loss(REAL, FAKE)))


def test_adversarial_loss_without_functions_is_a_config_error():
    with pytest.raises(ConfigError, match="needs a generator_loss function"):
        losses.AdversarialLoss(discriminator_loss=mean_difference_discriminator_loss)
