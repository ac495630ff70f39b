"""pix2pix: conditional GAN for paired image-to-image translation.

Reference:
    Isola et al., "Image-to-Image Translation with Conditional Adversarial Networks",
    CVPR 2017.
"""

import keras
import tensorflow as tf

from kgan import losses
from kgan.data.transforms import paired_jitter
from kgan.models.base import GANModel
from kgan.models.training import (apply_gradients, normalises_over_the_batch,
                                  real_and_fake_logits, scaled_loss)


@keras.saving.register_keras_serializable(package="kgan")
class Pix2Pix(GANModel):
    """A generator G and a conditional discriminator D trained in alternation.

    D learns to tell `(input, target)` from `(input, G(input))`; G minimises
    `g_adv + reconstruction_weight * g_recon`, with g_adv = adversarial(D(input, G(input)))
    and g_recon = reconstruction(target, G(input)). Logs: `d_loss`, `g_loss`, `g_adv`,
    `g_recon` and `l1` (mean absolute error of G(input) against the target); validation
    reports `g_recon` and `l1`. Calling the model runs the generator.

    Args:
        generator: Keras model, images [N, H, W, C_in] -> [N, H, W, C_out] in [-1, 1].
        discriminator: Keras model taking `[input, image]` and returning logits of any
            shape, e.g. `patch_discriminator(70)`.
        augment_on_device: apply the pix2pix jitter and flip at the start of each
            `train_step` (on the accelerator) instead of in the tf.data pipeline.
        seed: seed of the on-device augmentation.

    Compile arguments (besides `g_optimizer`, `d_optimizer`; see `GANModel.compile`):
        adversarial_loss: "bce" (the paper's), "lsgan", "hinge" or a
            `kgan.losses.AdversarialLoss`.
        reconstruction_loss: "l1", "l2", "l1+l2" or a callable `(target, output) -> scalar`.
        reconstruction_weight: lambda, the weight of the reconstruction term (100).

    Data: `fit` takes `(inputs, targets)` batches, float32 [N, H, W, 3] in [-1, 1].
    """

    GENERATOR_NETWORKS = ("generator",)
    DISCRIMINATOR_NETWORKS = ("discriminator",)
    CURVES = {**GANModel.CURVES, "reconstruction": "g_recon"}
    COMPILE_ARGUMENTS = {
        "adversarial_loss": ("bce", losses.get_adversarial),
        "reconstruction_loss": ("l1", losses.get_reconstruction),
        "reconstruction_weight": (100.0, float),
    }
    LOG_KEYS = ("d_loss", "g_loss", "g_adv", "g_recon", "l1")
    VALIDATION_KEYS = ("g_recon", "l1")

    def __init__(self, generator, discriminator, augment_on_device=False, seed=None, **kwargs):
        super().__init__(generator, discriminator, augment_on_device=augment_on_device,
                         seed=seed, **kwargs)
        # Real and fake pairs through D in one call, unless D normalises over the batch.
        self.fuse_discriminator_calls = not normalises_over_the_batch(discriminator)

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    def train_step(self, data):
        inputs, targets = data
        if self.augment_on_device:
            inputs, targets = paired_jitter(inputs, targets, seed=self.next_seeds(1)[0])

        with tf.GradientTape() as g_tape:
            fakes = self.generator(inputs, training=True)
            with g_tape.stop_recording():
                d_loss = self._discriminator_step(inputs, targets, fakes)
            # D has just been updated; the generator is judged by the new D.
            fake_logits = self.discriminator([inputs, fakes], training=True)
            g_adv = self.adversarial_loss.generator_loss(fake_logits)
            g_recon = tf.cast(self.reconstruction_loss(targets, fakes), tf.float32)
            g_loss = g_adv + self.reconstruction_weight * g_recon
            scaled = scaled_loss(self.g_optimizer, g_loss)
        apply_gradients(self.g_optimizer, g_tape, scaled, self.generator_variables)

        self.update_logs(d_loss=d_loss, g_loss=g_loss, g_adv=g_adv, g_recon=g_recon,
                         l1=losses.l1_loss(targets, fakes))
        return self.logs()

    def _discriminator_step(self, inputs, targets, fakes):
        with tf.GradientTape() as d_tape:
            real_logits, fake_logits = real_and_fake_logits(
                self.discriminator, [inputs, targets], [inputs, tf.stop_gradient(fakes)],
                fused=self.fuse_discriminator_calls,
            )
            d_loss = self.adversarial_loss.discriminator_loss(real_logits, fake_logits)
            scaled = scaled_loss(self.d_optimizer, d_loss)
        apply_gradients(self.d_optimizer, d_tape, scaled, self.discriminator_variables)
        return d_loss

    def test_step(self, data):
        inputs, targets = data
        fakes = self.generator(inputs, training=False)
        self.update_logs(g_recon=self.reconstruction_loss(targets, fakes),
                         l1=losses.l1_loss(targets, fakes))
        return self.logs(self.VALIDATION_KEYS)
