"""Generators and discriminators, each a function returning a functional Keras model."""

from kgan.networks.patch_discriminator import RECEPTIVE_FIELDS, patch_discriminator
from kgan.networks.resampling import (
    DOWNSAMPLING,
    UPSAMPLING,
    BinomialUpsample2D,
    BlurDownsample2D,
)
from kgan.networks.resnet_generator import (
    NCE_LAYERS,
    RESNET_BLOCKS,
    ReflectionPadding2D,
    resnet_features,
    resnet_generator,
)
from kgan.networks.unet_generator import unet_generator

__all__ = [
    "BinomialUpsample2D", "BlurDownsample2D", "DOWNSAMPLING", "NCE_LAYERS", "RECEPTIVE_FIELDS",
    "RESNET_BLOCKS",
    "ReflectionPadding2D", "UPSAMPLING", "patch_discriminator",
    "resnet_features", "resnet_generator", "unet_generator",
]
