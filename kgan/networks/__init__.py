"""Generators and discriminators, each a function returning a functional Keras model."""

from kgan.networks.patch_discriminator import RECEPTIVE_FIELDS, patch_discriminator
from kgan.networks.resnet_generator import ReflectionPadding2D, resnet_generator
from kgan.networks.unet_generator import unet_generator

__all__ = [
    "RECEPTIVE_FIELDS", "ReflectionPadding2D", "patch_discriminator", "resnet_generator",
    "unet_generator",
]
