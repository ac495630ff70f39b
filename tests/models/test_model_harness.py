"""Every kgan GAN, and the tests' toy GAN, passes the one model harness (`model_harness`)."""

import numpy as np
import pytest
import tensorflow as tf
from model_harness import GANCase, run_gan_model_test, unloadable
from toy_gan import ToyGAN

import kgan
from helpers import unpaired_batches

SIZE = 32
LAYERS = ("in_pad", "down0_conv", "down1_conv", "block0_add")  # a one-block ResNet's


def paired_batches():
    inputs = np.random.default_rng(0).uniform(-1, 1, (4, SIZE, SIZE, 3)).astype("float32")
    return tf.data.Dataset.from_tensor_slices((inputs, -inputs)).batch(2)


def unet():
    return kgan.unet_generator(SIZE, base_filters=8)


def resnet():
    return kgan.resnet_generator(SIZE, n_blocks=1, base_filters=8, norm="instance")


def patch(conditional=False, norm="instance"):
    return kgan.patch_discriminator(16, conditional=conditional, base_filters=8, norm=norm)


INPUTS = np.random.default_rng(1).uniform(-1, 1, (2, SIZE, SIZE, 3)).astype("float32")
CASES = {
    "pix2pix": GANCase(
        build=lambda: kgan.Pix2Pix(unet(), patch(conditional=True, norm="batch"), seed=1),
        batches=paired_batches, inputs=INPUTS,
        compile=dict(adversarial_loss="hinge", reconstruction_loss="l2",
                     reconstruction_weight=50.0),
        unloadable=unloadable("reconstruction_loss")),
    "cyclegan": GANCase(
        build=lambda: kgan.CycleGAN(resnet(), resnet(), patch(), patch(), pool_size=2, seed=1),
        batches=unpaired_batches, inputs=INPUTS,
        compile=dict(adversarial_loss="bce", cycle_loss="l1+l2", cycle_weight=5.0,
                     identity_weight=0.0),
        unloadable=unloadable("cycle_loss")),
    "cut": GANCase(
        build=lambda: kgan.CUT(resnet(), patch(), nce_layers=LAYERS, head_units=16, seed=1),
        batches=unpaired_batches, inputs=INPUTS,
        compile=dict(adversarial_loss="hinge", temperature=0.1, num_patches=32,
                     **kgan.CUT.MODES["cut"]),
        unloadable=unloadable("adversarial_loss")),
    "toy (tests only)": GANCase(
        build=lambda: ToyGAN(unet(), patch(), seed=1),
        batches=paired_batches, inputs=INPUTS,
        compile=dict(adversarial_loss="bce", pixel_loss="l2", pixel_weight=3.0),
        unloadable=unloadable("pixel_loss")),
}


@pytest.mark.parametrize("name", CASES)
def test_every_model_passes_the_harness(name, tmp_path):
    run_gan_model_test(CASES[name], tmp_path)
