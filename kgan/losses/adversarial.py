"""Adversarial objectives for GAN training, on raw discriminator logits.

Every function accepts logits of any shape (a PatchGAN's [N, h, w, 1] grid or a
single [N, 1] score), averages over all elements, and returns a float32 scalar.
Discriminator losses are halved (the mean of the real and the fake term), as in
the pix2pix/CycleGAN reference code, which slows the discriminator relative to
the generator.

Reference:
    Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014 (bce).
    Mao et al., "Least Squares Generative Adversarial Networks", ICCV 2017 (lsgan).
    Lim & Ye, "Geometric GAN", 2017; Miyato et al., "Spectral Normalization", 2018 (hinge).
"""

import keras
from keras import ops

from kgan.errors import ConfigError


def _f32(x):
    return ops.cast(x, "float32")


def bce_generator_loss(fake_logits):
    """Non-saturating generator loss: -log sigmoid(D(fake)), averaged."""
    return ops.mean(ops.softplus(-_f32(fake_logits)))


def bce_discriminator_loss(real_logits, fake_logits):
    """0.5 * (-log sigmoid(D(real)) - log(1 - sigmoid(D(fake)))), averaged."""
    # -log sigmoid(x) = softplus(-x) and -log(1 - sigmoid(x)) = softplus(x), stable for any x.
    real = ops.mean(ops.softplus(-_f32(real_logits)))
    fake = ops.mean(ops.softplus(_f32(fake_logits)))
    return 0.5 * (real + fake)


def lsgan_generator_loss(fake_logits):
    """Least-squares generator loss: mean((D(fake) - 1)^2)."""
    return ops.mean(ops.square(_f32(fake_logits) - 1.0))


def lsgan_discriminator_loss(real_logits, fake_logits):
    """0.5 * (mean((D(real) - 1)^2) + mean(D(fake)^2))."""
    real = ops.mean(ops.square(_f32(real_logits) - 1.0))
    fake = ops.mean(ops.square(_f32(fake_logits)))
    return 0.5 * (real + fake)


def hinge_generator_loss(fake_logits):
    """Hinge generator loss: -mean(D(fake))."""
    return -ops.mean(_f32(fake_logits))


def hinge_discriminator_loss(real_logits, fake_logits):
    """0.5 * (mean(relu(1 - D(real))) + mean(relu(1 + D(fake))))."""
    real = ops.mean(ops.relu(1.0 - _f32(real_logits)))
    fake = ops.mean(ops.relu(1.0 + _f32(fake_logits)))
    return 0.5 * (real + fake)


@keras.saving.register_keras_serializable(package="kgan")
class AdversarialLoss:
    """A pair of callables: the generator's and the discriminator's objective.

    Subclass it (override both methods) or build one from two functions to plug a new
    objective into `Pix2Pix.compile` / `CycleGAN.compile`. To save the model to `.keras`,
    register the subclass or the two functions with
    `@keras.saving.register_keras_serializable(package=...)`: they are saved by name.

    Args:
        generator_loss: `fn(fake_logits) -> scalar`.
        discriminator_loss: `fn(real_logits, fake_logits) -> scalar`.
    """

    name = "custom"

    def __init__(self, generator_loss=None, discriminator_loss=None):
        # Instance attributes: the functions given here, saved by get_config. Subclasses
        # that set them on the class or override the methods have nothing to save.
        if generator_loss is not None:
            self._generator_loss = generator_loss
        if discriminator_loss is not None:
            self._discriminator_loss = discriminator_loss
        for method in ("generator_loss", "discriminator_loss"):
            overridden = getattr(type(self), method) is not getattr(AdversarialLoss, method)
            if not overridden and not hasattr(self, "_" + method):
                raise ConfigError(f"AdversarialLoss needs a {method} function: pass one, or subclass it")

    def generator_loss(self, fake_logits):
        """Scalar loss the generator minimises, from D's logits on generated images."""
        return self._generator_loss(fake_logits)

    def discriminator_loss(self, real_logits, fake_logits):
        """Scalar loss the discriminator minimises, from its logits on real and fake."""
        return self._discriminator_loss(real_logits, fake_logits)

    @property
    def functions(self):
        """{argument: function} of the functions given to the constructor."""
        return {
            method: vars(self)["_" + method]
            for method in ("generator_loss", "discriminator_loss") if "_" + method in vars(self)
        }

    def get_config(self):
        return {
            method: keras.saving.serialize_keras_object(function)
            for method, function in self.functions.items()
        }

    @classmethod
    def from_config(cls, config):
        return cls(**{key: keras.saving.deserialize_keras_object(value) for key, value in config.items()})

    def __repr__(self):
        names = ", ".join(f"{key}={getattr(f, '__name__', f)}" for key, f in self.functions.items())
        return f"{type(self).__name__}({names})"


@keras.saving.register_keras_serializable(package="kgan")
class BCE(AdversarialLoss):
    """The original (non-saturating) GAN objective on logits."""

    name = "bce"
    _generator_loss = staticmethod(bce_generator_loss)
    _discriminator_loss = staticmethod(bce_discriminator_loss)


@keras.saving.register_keras_serializable(package="kgan")
class LSGAN(AdversarialLoss):
    """Least-squares GAN objective (targets 1 for real, 0 for fake)."""

    name = "lsgan"
    _generator_loss = staticmethod(lsgan_generator_loss)
    _discriminator_loss = staticmethod(lsgan_discriminator_loss)


@keras.saving.register_keras_serializable(package="kgan")
class Hinge(AdversarialLoss):
    """Hinge GAN objective."""

    name = "hinge"
    _generator_loss = staticmethod(hinge_generator_loss)
    _discriminator_loss = staticmethod(hinge_discriminator_loss)
