"""Swappable loss callables and `get(name)` to look one up by the name a recipe uses.

Adversarial: `"bce"`, `"lsgan"`, `"hinge"` (an `AdversarialLoss` with
`generator_loss(fake_logits)` and `discriminator_loss(real_logits, fake_logits)`).
Reconstruction: `"l1"`, `"l2"`, `"l1+l2"` (callables `loss(target, output)`).
Contrastive: `patch_nce_loss(query, key, temperature)`, CUT's PatchNCE, with
`patch_positions` and `gather_patches` to sample the patches it compares.
`serialize(loss, argument)` saves any of them, or a user's registered one, for `.keras` files.
"""

import json
import warnings

import keras

from kgan.errors import ConfigError, KganError
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
from kgan.losses.patchnce import gather_patches, patch_nce_loss, patch_positions
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


def serialize(loss, argument):
    """`keras.saving.serialize_keras_object(loss)`, refusing a loss that would not load back.

    Keras saves a function or class by its registered name and finds it again at load time
    only if it was registered; an unregistered one (or a lambda) saves without complaint and
    fails when the model is loaded or first trained. Each part is therefore loaded back here,
    at save time.

    Args:
        loss: an `AdversarialLoss` or a reconstruction loss callable.
        argument: the compile argument it was given as, for the message.

    Raises:
        KganError: naming the part (function or class) to register.
    """
    parts = list(loss.functions.values()) if isinstance(loss, AdversarialLoss) else []
    for part in parts + [loss]:
        try:
            with warnings.catch_warnings():  # Keras' lambda warning; the error below says more
                warnings.simplefilter("ignore")
                config = json.loads(json.dumps(keras.saving.serialize_keras_object(part)))
            keras.saving.deserialize_keras_object(config)
        except Exception as error:
            name = getattr(part, "__qualname__", type(part).__qualname__)
            raise KganError(
                f"cannot save {argument} {name!r} to .keras ({type(error).__name__}): define it "
                "at module level, decorate it with @keras.saving.register_keras_serializable("
                "package=...) and, for a class with arguments, give it get_config()"
            ) from error
    return keras.saving.serialize_keras_object(loss)


__all__ = [
    "AdversarialLoss", "BCE", "LSGAN", "Hinge", "L1", "L2", "L1L2",
    "bce_generator_loss", "bce_discriminator_loss", "lsgan_generator_loss",
    "lsgan_discriminator_loss", "hinge_generator_loss", "hinge_discriminator_loss",
    "l1_loss", "l2_loss", "get_adversarial", "get_reconstruction", "serialize",
    "patch_nce_loss", "patch_positions", "gather_patches",
]
