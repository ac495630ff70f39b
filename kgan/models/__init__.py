"""GAN models: Keras subclassed models whose `train_step` alternates D and G updates."""

from kgan.models.cyclegan import CycleGAN
from kgan.models.pix2pix import Pix2Pix

__all__ = ["CycleGAN", "Pix2Pix"]
