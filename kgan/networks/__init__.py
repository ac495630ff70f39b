"""Generators and discriminators, each a function returning a functional Keras model."""

from kgan.networks.patch_discriminator import RECEPTIVE_FIELDS, patch_discriminator
from kgan.networks.unet_generator import unet_generator

__all__ = ["RECEPTIVE_FIELDS", "patch_discriminator", "unet_generator"]
