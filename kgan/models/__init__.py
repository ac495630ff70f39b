"""GAN models: Keras subclassed models whose `train_step` alternates D and G updates."""

from kgan.models.pix2pix import Pix2Pix

__all__ = ["Pix2Pix"]
