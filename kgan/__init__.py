"""kgan: image-to-image translation with GANs (pix2pix, CycleGAN, CUT) in Keras 3 / TensorFlow."""

from kgan import startup

# Before TensorFlow loads: a quiet console and one-line Ctrl-C/SIGTERM while a
# `python -m kgan....` command imports (nothing for a script importing kgan).
startup.prepare_command()

with startup.quiet_imports():  # TensorFlow loads here
    from kgan import data, losses, metrics
    from kgan.errors import ConfigError, KganError
    from kgan.models import CUT, CycleGAN, GANModel, Pix2Pix
    from kgan.networks import patch_discriminator, resnet_generator, unet_generator
    from kgan.schedules import ConstantThenLinearDecay

__version__ = "0.1.0"

__all__ = [
    "CUT", "ConfigError", "ConstantThenLinearDecay", "CycleGAN", "GANModel", "KganError", "Pix2Pix", "data",
    "losses", "metrics", "patch_discriminator", "resnet_generator", "unet_generator",
]
