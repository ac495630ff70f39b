"""pix2pix: conditional GAN for paired image-to-image translation.

Reference:
    Isola et al., "Image-to-Image Translation with Conditional Adversarial Networks",
    CVPR 2017.
"""

import keras
import tensorflow as tf

from kgan import losses
from kgan.data.transforms import paired_jitter
from kgan.models.training import apply_gradients, build_optimizer, scale_for_replicas


@keras.saving.register_keras_serializable(package="kgan")
class Pix2Pix(keras.Model):
    """A generator G and a conditional discriminator D trained in alternation.

    D learns to tell `(input, target)` from `(input, G(input))`; G minimises
    `adversarial(D(input, G(input))) + reconstruction_weight * reconstruction(target, G(input))`.
    Calling the model runs the generator.

    Args:
        generator: Keras model, images [N, H, W, C_in] -> [N, H, W, C_out] in [-1, 1].
        discriminator: Keras model taking `[input, image]` and returning logits of any
            shape, e.g. `patch_discriminator(70)`.
        augment_on_device: apply the pix2pix jitter and flip at the start of each
            `train_step` (on the accelerator) instead of in the tf.data pipeline.
        seed: seed of the on-device augmentation.

    Data: `fit` takes `(inputs, targets)` batches, float32 [N, H, W, 3] in [-1, 1].
    """

    def __init__(self, generator, discriminator, augment_on_device=False, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.augment_on_device = augment_on_device
        self.seed = seed
        self._augment_seed = keras.random.SeedGenerator(seed, name="augment_seed")
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.g_adv_tracker = keras.metrics.Mean(name="g_adv")
        self.g_recon_tracker = keras.metrics.Mean(name="g_recon")
        self.l1_tracker = keras.metrics.Mean(name="l1")
        # The sub-networks are built functional models, so this model is built too.
        self.built = generator.built and discriminator.built

    def compile(
        self,
        g_optimizer=None,
        d_optimizer=None,
        adversarial_loss="bce",
        reconstruction_loss="l1",
        reconstruction_weight=100.0,
        **kwargs,
    ):
        """Configure training.

        Args:
            g_optimizer, d_optimizer: Keras optimizers (default Adam(2e-4, beta_1=0.5), the
                paper's). Under a mixed-float16 policy they are wrapped for loss scaling.
            adversarial_loss: "bce", "lsgan", "hinge" or a `kgan.losses.AdversarialLoss`.
            reconstruction_loss: "l1", "l2", "l1+l2" or a callable `(target, output) -> scalar`.
            reconstruction_weight: lambda, the weight of the reconstruction term (100).
            **kwargs: passed to `keras.Model.compile` (`jit_compile`, `steps_per_execution`).
        """
        super().compile(**kwargs)
        self.g_optimizer = build_optimizer(g_optimizer, self.generator)
        self.d_optimizer = build_optimizer(d_optimizer, self.discriminator)
        self.adversarial_loss = losses.get_adversarial(adversarial_loss)
        self.reconstruction_loss = losses.get_reconstruction(reconstruction_loss)
        self.reconstruction_weight = float(reconstruction_weight)

    @property
    def metrics(self):
        return [
            self.d_loss_tracker, self.g_loss_tracker, self.g_adv_tracker,
            self.g_recon_tracker, self.l1_tracker,
        ]

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    def train_step(self, data):
        inputs, targets = data
        if self.augment_on_device:
            inputs, targets = paired_jitter(
                inputs, targets, seed=tf.cast(self._augment_seed.next(), tf.int32)
            )

        with tf.GradientTape() as g_tape:
            fakes = self.generator(inputs, training=True)
            with g_tape.stop_recording():
                d_loss = self._discriminator_step(inputs, targets, fakes)
            # D has just been updated; the generator is judged by the new D.
            fake_logits = self.discriminator([inputs, fakes], training=True)
            g_adv = self.adversarial_loss.generator_loss(fake_logits)
            g_recon = tf.cast(self.reconstruction_loss(targets, fakes), tf.float32)
            g_loss = g_adv + self.reconstruction_weight * g_recon
            scaled = self.g_optimizer.scale_loss(scale_for_replicas(g_loss))
        apply_gradients(self.g_optimizer, g_tape, scaled, self.generator)

        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        self.g_adv_tracker.update_state(g_adv)
        self.g_recon_tracker.update_state(g_recon)
        self.l1_tracker.update_state(losses.l1_loss(targets, fakes))
        return {m.name: m.result() for m in self.metrics}

    def _discriminator_step(self, inputs, targets, fakes):
        with tf.GradientTape() as d_tape:
            real_logits = self.discriminator([inputs, targets], training=True)
            fake_logits = self.discriminator([inputs, tf.stop_gradient(fakes)], training=True)
            d_loss = self.adversarial_loss.discriminator_loss(real_logits, fake_logits)
            scaled = self.d_optimizer.scale_loss(scale_for_replicas(d_loss))
        apply_gradients(self.d_optimizer, d_tape, scaled, self.discriminator)
        return d_loss

    def test_step(self, data):
        """Validation: the reconstruction loss (`g_recon`) and the plain L1 error (`l1`)."""
        inputs, targets = data
        fakes = self.generator(inputs, training=False)
        self.g_recon_tracker.update_state(self.reconstruction_loss(targets, fakes))
        self.l1_tracker.update_state(losses.l1_loss(targets, fakes))
        return {m.name: m.result() for m in (self.g_recon_tracker, self.l1_tracker)}

    def get_config(self):
        config = super().get_config()
        config.update(
            generator=keras.saving.serialize_keras_object(self.generator),
            discriminator=keras.saving.serialize_keras_object(self.discriminator),
            augment_on_device=self.augment_on_device,
            seed=self.seed,
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["generator"] = keras.saving.deserialize_keras_object(config["generator"])
        config["discriminator"] = keras.saving.deserialize_keras_object(config["discriminator"])
        return cls(**config)

    def get_compile_config(self):
        if not self.compiled:
            return None
        return {
            "g_optimizer": keras.saving.serialize_keras_object(self.g_optimizer),
            "d_optimizer": keras.saving.serialize_keras_object(self.d_optimizer),
            "adversarial_loss": keras.saving.serialize_keras_object(self.adversarial_loss),
            "reconstruction_loss": keras.saving.serialize_keras_object(self.reconstruction_loss),
            "reconstruction_weight": self.reconstruction_weight,
        }

    def compile_from_config(self, config):
        config = {
            key: keras.saving.deserialize_keras_object(value) if isinstance(value, dict) else value
            for key, value in config.items()
        }
        self.compile(**config)
