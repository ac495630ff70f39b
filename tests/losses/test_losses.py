"""Loss values against numbers computed by hand."""

import math

import numpy as np
import pytest
import tensorflow as tf

from kgan import losses
from kgan.errors import ConfigError


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
    assert float(losses.hinge_generator_loss(FAKE)) == pytest.approx(-0.0)
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
