"""pix2pix: conditional GAN for paired image-to-image translation.

Reference:
    Isola et al., "Image-to-Image Translation with Conditional Adversarial Networks",
    CVPR 2017.
"""

import keras

from kgan import losses
from kgan.models.base import GANModel
from kgan.models.training import normalises_over_the_batch, real_and_fake_logits


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

    A step updates D on real against fake pairs, then G, judged by the updated D.

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
    STEP_SEEDS = 1  # the on-device jitter's

    def __init__(self, generator, discriminator, augment_on_device=False, seed=None, **kwargs):
        super().__init__(generator, discriminator, augment_on_device=augment_on_device,
                         seed=seed, **kwargs)
        # Real and fake pairs through D in one call, unless D normalises over the batch.
        self.fuse_discriminator_calls = not normalises_over_the_batch(discriminator)

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    def augment(self, batch, seeds):
        from kgan.data.transforms import paired_jitter

        inputs, targets = batch
        return paired_jitter(inputs, targets, seed=seeds[0])

    def generate(self, batch, seeds):
        inputs, _ = batch
        return self.generator(inputs, training=True)

    def discriminator_loss(self, batch, fakes, seeds):
        inputs, targets = batch
        real_logits, fake_logits = real_and_fake_logits(
            self.discriminator, [inputs, targets], [inputs, fakes],
            fused=self.fuse_discriminator_calls,
        )
        d_loss = self.adversarial_loss.discriminator_loss(real_logits, fake_logits)
        return d_loss, {"d_loss": d_loss}

    def generator_loss(self, batch, fakes, seeds):
        inputs, targets = batch
        g_adv = self.adversarial_loss.generator_loss(
            self.discriminator([inputs, fakes], training=True))
        g_recon = keras.ops.cast(self.reconstruction_loss(targets, fakes), "float32")
        g_loss = g_adv + self.reconstruction_weight * g_recon
        return g_loss, {"g_loss": g_loss, "g_adv": g_adv, "g_recon": g_recon,
                        "l1": losses.l1_loss(targets, fakes)}

    def validation_logs(self, batch):
        inputs, targets = batch
        fakes = self.generator(inputs, training=False)
        return {"g_recon": self.reconstruction_loss(targets, fakes),
                "l1": losses.l1_loss(targets, fakes)}
