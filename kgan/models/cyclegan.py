"""CycleGAN: two generators and two discriminators for unpaired image-to-image translation.

Reference:
    Zhu et al., "Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial
    Networks", ICCV 2017.
"""

import keras
import tensorflow as tf

from kgan import losses
from kgan.data.image_pool import ImagePool
from kgan.data.transforms import random_jitter
from kgan.models.training import apply_gradients, build_optimizer, scale_for_replicas


class _Together:
    """Two networks that one optimizer trains, seen by `build_optimizer` and
    `apply_gradients` as one network (the reference code's itertools.chain)."""

    def __init__(self, first, second):
        self.first, self.second = first, second

    @property
    def trainable_variables(self):
        return self.first.trainable_variables + self.second.trainable_variables


@keras.saving.register_keras_serializable(package="kgan")
class CycleGAN(keras.Model):
    """Generators G: A -> B and F: B -> A with discriminators D_A (on A) and D_B (on B).

    Each `train_step` on `(real_a, real_b)` first updates both generators on
        adv_loss + cycle_weight * cycle_loss + cycle_weight * identity_weight * identity_loss
    where adv_loss = gan(D_B(G(a))) + gan(D_A(F(b))), cycle_loss = rec(a, F(G(a))) +
    rec(b, G(F(b))) and identity_loss = rec(b, G(b)) + rec(a, F(a)); then both
    discriminators on the real images against fakes drawn from the image pools. Reported:
    `g_loss` (the total above), `adv_loss`, `cycle_loss`, `identity_loss` (unweighted sums
    of both directions), `d_a_loss`, `d_b_loss`. Calling the model runs G (A -> B).

    Args:
        generator_ab: G, a Keras model, images [N, H, W, C] in [-1, 1] -> same shape in
            [-1, 1], e.g. `resnet_generator()`.
        generator_ba: F, the same for B -> A.
        discriminator_a, discriminator_b: unconditional discriminators returning logits
            of any shape, e.g. `patch_discriminator(70, conditional=False, norm="instance")`.
        pool_size: images in each history pool (`ImagePool`; 50 in the paper, 0 disables).
            The pools take their image shape from `build(input_shape)` or the first batch,
            so every batch must have that height and width.
        augment_on_device: apply the pix2pix jitter and flip to each image at the start of
            each `train_step` instead of in the tf.data pipeline.
        seed: seed of the pools' draws and of the on-device augmentation.

    Data: `fit` takes `(real_a, real_b)` batches, float32 [N, H, W, 3] in [-1, 1], the two
    domains shuffled independently (`kgan.data.prepare_unpaired`).
    """

    def __init__(self, generator_ab, generator_ba, discriminator_a, discriminator_b,
                 pool_size=50, augment_on_device=False, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.generator_ab = generator_ab
        self.generator_ba = generator_ba
        self.discriminator_a = discriminator_a
        self.discriminator_b = discriminator_b
        self.pool_size = int(pool_size)
        self.augment_on_device = augment_on_device
        self.seed = seed
        self.pool_a = ImagePool(self.pool_size, name="pool_a")  # fakes of A, for D_A
        self.pool_b = ImagePool(self.pool_size, name="pool_b")
        self._seed_generator = keras.random.SeedGenerator(seed, name="cyclegan_seed")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.adv_loss_tracker = keras.metrics.Mean(name="adv_loss")
        self.cycle_loss_tracker = keras.metrics.Mean(name="cycle_loss")
        self.identity_loss_tracker = keras.metrics.Mean(name="identity_loss")
        self.d_a_loss_tracker = keras.metrics.Mean(name="d_a_loss")
        self.d_b_loss_tracker = keras.metrics.Mean(name="d_b_loss")
        self.l1_tracker = keras.metrics.Mean(name="l1")
        networks = (generator_ab, generator_ba, discriminator_a, discriminator_b)
        # Without pools there is no state that waits for an image shape.
        self.built = self.pool_size == 0 and all(n.built for n in networks)

    def build(self, input_shape):
        """Create the pools' buffers for images of `input_shape` ([N, H, W, C] of A)."""
        height, width = tuple(input_shape)[1:3]
        for pool, generator in ((self.pool_b, self.generator_ab), (self.pool_a, self.generator_ba)):
            if not pool.built:
                pool.build((None, height, width, generator.output_shape[-1]))

    def compile(self, g_optimizer=None, d_optimizer=None, adversarial_loss="lsgan",
                cycle_loss="l1", cycle_weight=10.0, identity_weight=0.5, **kwargs):
        """Configure training.

        Args:
            g_optimizer: one optimizer for both generators (default Adam(2e-4, beta_1=0.5),
                the paper's); d_optimizer: one for both discriminators.
            adversarial_loss: "lsgan" (the paper's), "bce", "hinge" or a
                `kgan.losses.AdversarialLoss`.
            cycle_loss: "l1", "l2", "l1+l2" or a callable `(target, output) -> scalar`; also
                used for the identity term.
            cycle_weight: lambda, the weight of the cycle-consistency loss (10).
            identity_weight: weight of the identity loss relative to `cycle_weight`
                (0.5, as `lambda_identity` in the reference code); 0 disables it.
            **kwargs: passed to `keras.Model.compile` (`jit_compile`, `steps_per_execution`).
        """
        super().compile(**kwargs)
        self.g_optimizer = build_optimizer(g_optimizer, self._generators)
        self.d_optimizer = build_optimizer(d_optimizer, self._discriminators)
        self.adversarial_loss = losses.get_adversarial(adversarial_loss)
        self.cycle_loss = losses.get_reconstruction(cycle_loss)
        self.cycle_weight = float(cycle_weight)
        self.identity_weight = float(identity_weight)

    @property
    def _generators(self):
        return _Together(self.generator_ab, self.generator_ba)

    @property
    def _discriminators(self):
        return _Together(self.discriminator_a, self.discriminator_b)

    @property
    def metrics(self):
        return self._train_trackers + [self.l1_tracker]

    @property
    def _train_trackers(self):
        return [
            self.g_loss_tracker, self.adv_loss_tracker, self.cycle_loss_tracker,
            self.identity_loss_tracker, self.d_a_loss_tracker, self.d_b_loss_tracker,
        ]

    def call(self, inputs, training=False):
        return self.generator_ab(inputs, training=training)

    def train_step(self, data):
        real_a, real_b = data
        if not self.built:
            self.build(real_a.shape)
        seeds = tf.random.experimental.stateless_split(
            tf.cast(self._seed_generator.next(), tf.int32), 4
        )
        if self.augment_on_device:
            real_a = random_jitter(real_a, seeds[2])
            real_b = random_jitter(real_b, seeds[3])

        fake_a, fake_b = self._generator_step(real_a, real_b)
        with tf.GradientTape() as tape:
            d_a_loss = self._discriminator_loss(
                self.discriminator_a, real_a, self.pool_a.query(fake_a, seeds[0])
            )
            d_b_loss = self._discriminator_loss(
                self.discriminator_b, real_b, self.pool_b.query(fake_b, seeds[1])
            )
            scaled = self.d_optimizer.scale_loss(scale_for_replicas(d_a_loss + d_b_loss))
        apply_gradients(self.d_optimizer, tape, scaled, self._discriminators)

        self.d_a_loss_tracker.update_state(d_a_loss)
        self.d_b_loss_tracker.update_state(d_b_loss)
        return {m.name: m.result() for m in self._train_trackers}

    def _generator_step(self, real_a, real_b):
        """Update G and F once; return the fakes `(fake_a, fake_b)` they made."""
        with tf.GradientTape() as tape:
            fake_b = self.generator_ab(real_a, training=True)
            fake_a = self.generator_ba(real_b, training=True)
            cycled_a = self.generator_ba(fake_b, training=True)
            cycled_b = self.generator_ab(fake_a, training=True)
            adv_loss = self.adversarial_loss.generator_loss(
                self.discriminator_b(fake_b, training=True)
            ) + self.adversarial_loss.generator_loss(self.discriminator_a(fake_a, training=True))
            cycle_loss = self._reconstruction(real_a, cycled_a) + self._reconstruction(real_b, cycled_b)
            g_loss = adv_loss + self.cycle_weight * cycle_loss
            if self.identity_weight:
                same_b = self.generator_ab(real_b, training=True)
                same_a = self.generator_ba(real_a, training=True)
                identity_loss = self._reconstruction(real_b, same_b) + self._reconstruction(real_a, same_a)
                g_loss += self.cycle_weight * self.identity_weight * identity_loss
            else:
                identity_loss = tf.zeros([])
            scaled = self.g_optimizer.scale_loss(scale_for_replicas(g_loss))
        apply_gradients(self.g_optimizer, tape, scaled, self._generators)

        self.g_loss_tracker.update_state(g_loss)
        self.adv_loss_tracker.update_state(adv_loss)
        self.cycle_loss_tracker.update_state(cycle_loss)
        self.identity_loss_tracker.update_state(identity_loss)
        return fake_a, fake_b

    def _reconstruction(self, target, output):
        return tf.cast(self.cycle_loss(target, output), tf.float32)

    def _discriminator_loss(self, discriminator, real, fake):
        real_logits = discriminator(real, training=True)
        fake_logits = discriminator(tf.stop_gradient(fake), training=True)
        return self.adversarial_loss.discriminator_loss(real_logits, fake_logits)

    def test_step(self, data):
        """Validation: `cycle_loss` (both directions, as in training) and `l1`, the mean
        absolute error of G(a) against b, meaningful when the validation pairs are aligned
        (bluemarble's test tiles; for unpaired sets it only compares unrelated images)."""
        real_a, real_b = data
        fake_b = self.generator_ab(real_a, training=False)
        fake_a = self.generator_ba(real_b, training=False)
        cycle_loss = self._reconstruction(
            real_a, self.generator_ba(fake_b, training=False)
        ) + self._reconstruction(real_b, self.generator_ab(fake_a, training=False))
        self.cycle_loss_tracker.update_state(cycle_loss)
        self.l1_tracker.update_state(losses.l1_loss(real_b, fake_b))
        return {m.name: m.result() for m in (self.cycle_loss_tracker, self.l1_tracker)}

    def get_config(self):
        config = super().get_config()
        config.update(
            {name: keras.saving.serialize_keras_object(getattr(self, name)) for name in _NETWORKS},
            pool_size=self.pool_size,
            augment_on_device=self.augment_on_device,
            seed=self.seed,
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for name in _NETWORKS:
            config[name] = keras.saving.deserialize_keras_object(config[name])
        return cls(**config)

    def get_compile_config(self):
        if not self.compiled:
            return None
        return {
            "g_optimizer": keras.saving.serialize_keras_object(self.g_optimizer),
            "d_optimizer": keras.saving.serialize_keras_object(self.d_optimizer),
            "adversarial_loss": keras.saving.serialize_keras_object(self.adversarial_loss),
            "cycle_loss": keras.saving.serialize_keras_object(self.cycle_loss),
            "cycle_weight": self.cycle_weight,
            "identity_weight": self.identity_weight,
        }

    def compile_from_config(self, config):
        config = {
            key: keras.saving.deserialize_keras_object(value) if isinstance(value, dict) else value
            for key, value in config.items()
        }
        self.compile(**config)


_NETWORKS = ("generator_ab", "generator_ba", "discriminator_a", "discriminator_b")
