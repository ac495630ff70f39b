"""Swappable loss callables and `get(name)` to look one up by the name a recipe uses.

Adversarial: `"bce"`, `"lsgan"`, `"hinge"` (an `AdversarialLoss` with
`generator_loss(fake_logits)` and `discriminator_loss(real_logits, fake_logits)`).
Reconstruction: `"l1"`, `"l2"`, `"l1+l2"` (callables `loss(target, output)`).
"""

import keras

from kgan.errors import ConfigError
from kgan.losses.adversarial import (
    BCE,
    LSGAN,
    AdversarialLoss,
    Hinge,
    bce_discriminator_loss,
    bce_generator_loss,
    hinge_discriminator_loss,
    hinge_generator_loss,
    lsgan_discriminator_loss,
    lsgan_generator_loss,
)
from kgan.losses.reconstruction import L1, L2, L1L2, l1_loss, l2_loss

ADVERSARIAL = {"bce": BCE, "lsgan": LSGAN, "hinge": Hinge}
RECONSTRUCTION = {"l1": L1, "l2": L2, "l1+l2": L1L2}


def get_adversarial(identifier):
    """Return an `AdversarialLoss` for a name ("bce", "lsgan", "hinge") or pass one through."""
    if isinstance(identifier, AdversarialLoss):
        return identifier
    if isinstance(identifier, dict):
        return keras.saving.deserialize_keras_object(identifier)
    if identifier in ADVERSARIAL:
        return ADVERSARIAL[identifier]()
    raise ConfigError(
        f"unknown adversarial loss {identifier!r}: use one of {', '.join(ADVERSARIAL)} "
        "or a kgan.losses.AdversarialLoss"
    )


def get_reconstruction(identifier):
    """Return a `loss(target, output)` callable for "l1", "l2", "l1+l2" or pass a callable through."""
    if isinstance(identifier, dict):
        return keras.saving.deserialize_keras_object(identifier)
    if isinstance(identifier, str):
        if identifier in RECONSTRUCTION:
            return RECONSTRUCTION[identifier]()
        raise ConfigError(
            f"unknown reconstruction loss {identifier!r}: use one of {', '.join(RECONSTRUCTION)}"
        )
    if callable(identifier):
        return identifier
    raise ConfigError(f"reconstruction loss must be a name or a callable, got {identifier!r}")


__all__ = [
    "AdversarialLoss", "BCE", "LSGAN", "Hinge", "L1", "L2", "L1L2",
    "bce_generator_loss", "bce_discriminator_loss", "lsgan_generator_loss",
    "lsgan_discriminator_loss", "hinge_generator_loss", "hinge_discriminator_loss",
    "l1_loss", "l2_loss", "get_adversarial", "get_reconstruction",
]
