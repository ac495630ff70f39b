"""A fourth GAN and its recipe that exist only in the tests: what adding a model to kgan takes.

`ToyGAN` translates paired images with an unconditional PatchGAN and a weighted pixel loss.
Its reconstruction curve is logged as `g_pixel`, a key no shipped model uses, so that a test
can show that the run folder, the export and the report's figures follow the model's own
declarations (EXPORTS, CURVES) without an edit to their code. Nothing in kgan/ names it.
"""

import keras
import tensorflow as tf

from kgan import losses
from kgan.callbacks import SampleGrid
from kgan.models import GANModel
from kgan.models.training import apply_gradients, scaled_loss
from kgan.networks import patch_discriminator, unet_generator
from kgan.recipes.data import PairedData
from kgan.recipes.recipe import Recipe


@keras.saving.register_keras_serializable(package="kgan_tests")
class ToyGAN(GANModel):
    """G(input) judged by an unconditional D, plus `pixel_weight * pixel_loss(target, G(input))`.

    Data: `fit` takes `(inputs, targets)` batches, float32 [N, H, W, 3] in [-1, 1].
    """

    GENERATOR_NETWORKS = ("generator",)
    DISCRIMINATOR_NETWORKS = ("discriminator",)
    EXPORTS = {"generator": ("", "the toy generator")}
    CURVES = {**GANModel.CURVES, "reconstruction": "g_pixel"}
    COMPILE_ARGUMENTS = {
        "adversarial_loss": ("lsgan", losses.get_adversarial),
        "pixel_loss": ("l1", losses.get_reconstruction),
        "pixel_weight": (10.0, float),
    }
    LOG_KEYS = ("d_loss", "g_loss", "g_adv", "g_pixel")
    VALIDATION_KEYS = ("g_pixel",)

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    def train_step(self, data):
        inputs, targets = data
        with tf.GradientTape() as d_tape:
            fakes = self.generator(inputs, training=True)
            real_logits = self.discriminator(targets, training=True)
            fake_logits = self.discriminator(tf.stop_gradient(fakes), training=True)
            d_loss = self.adversarial_loss.discriminator_loss(real_logits, fake_logits)
            scaled = scaled_loss(self.d_optimizer, d_loss)
        apply_gradients(self.d_optimizer, d_tape, scaled, self.discriminator_variables)
        with tf.GradientTape() as g_tape:
            fakes = self.generator(inputs, training=True)
            g_adv = self.adversarial_loss.generator_loss(self.discriminator(fakes, training=True))
            g_pixel = tf.cast(self.pixel_loss(targets, fakes), tf.float32)
            g_loss = g_adv + self.pixel_weight * g_pixel
            scaled = scaled_loss(self.g_optimizer, g_loss)
        apply_gradients(self.g_optimizer, g_tape, scaled, self.generator_variables)
        self.update_logs(d_loss=d_loss, g_loss=g_loss, g_adv=g_adv, g_pixel=g_pixel)
        return self.logs()

    def test_step(self, data):
        inputs, targets = data
        self.update_logs(g_pixel=self.pixel_loss(targets, self.generator(inputs)))
        return self.logs(self.VALIDATION_KEYS)


class ToyRecipe(Recipe):
    """`ToyGAN` on paired data: the whole command line is the `Recipe` skeleton's."""

    name = "toy"
    description = "Train the tests' toy GAN."
    data = PairedData()
    model_class = ToyGAN
    sample_grid = SampleGrid
    gan_loss = "lsgan"

    def add_model_arguments(self, model, objective):
        objective.add_argument("--pixel-weight", type=float, default=10.0)

    def create_model(self, options):
        generator = unet_generator(options.image_size, base_filters=options.base_filters,
                                   norm=options.norm, upsample=options.upsample,
                                   downsample=options.downsample)
        discriminator = patch_discriminator(options.patch, conditional=False,
                                            base_filters=options.base_filters,
                                            norm=options.norm, downsample=options.downsample)
        return ToyGAN(generator, discriminator, seed=options.seed)

    def loss_arguments(self, options):
        return {"pixel_weight": options.pixel_weight}


RECIPE = ToyRecipe()
