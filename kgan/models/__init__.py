"""GAN models: Keras subclassed models whose `train_step` alternates D and G updates."""

from kgan.models.base import GANModel
from kgan.models.cut import CUT
from kgan.models.cyclegan import CycleGAN
from kgan.models.image_pool import ImagePool
from kgan.models.pix2pix import Pix2Pix

# The shipped GANs.
MODELS = (Pix2Pix, CycleGAN, CUT)

__all__ = ["CUT", "CycleGAN", "GANModel", "ImagePool", "MODELS", "Pix2Pix"]
