"""CUT and FastCUT: one generator for unpaired translation, kept faithful to its input by a
contrastive loss between patches instead of a second generator and a cycle.

Reference:
    Park, Efros, Zhang, Zhu, "Contrastive Learning for Unpaired Image-to-Image Translation",
    ECCV 2020 (code: github.com/taesungp/contrastive-unpaired-translation).
"""

import keras
from keras import ops

from kgan import losses, seeds
from kgan.errors import ConfigError
from kgan.models.base import GANModel
from kgan.models.training import normalises_over_the_batch, real_and_fake_logits
from kgan.networks.layers import conv_init
from kgan.networks.resnet_generator import NCE_LAYERS, resnet_features

# Patch positions of the validation PatchNCE: fixed, so that epochs compare on equal terms
# and validating does not move the training's random stream.
VALIDATION_SEED = (0, 0)


@keras.saving.register_keras_serializable(package="kgan")
class CUT(GANModel):
    """Generator G: A -> B, discriminator D on B, and one projection head per feature layer.

    Each `train_step` on `(real_a, real_b)` translates `real_a` (CUT: `real_a` and `real_b`
    in one batch, as the reference code does), updates D on real B against G(a), minimising
    `d_loss`, then G and the heads on
        g_loss = g_adv + nce_weight * g_nce                                  (FastCUT)
        g_loss = g_adv + nce_weight * (g_nce + g_nce_identity) / 2           (CUT)
    where g_adv = gan(D(G(a))), g_nce is the PatchNCE loss between G(a) and a averaged over
    the feature layers, and g_nce_identity the same between G(b) and b. For each layer, the
    features of the input and of the output are taken from G's encoder (`nce_layers`),
    sampled at `num_patches` positions shared by the two (and by the batch), projected by
    the layer's head and L2-normalised; the keys (input) carry no gradient.

    Logs: `d_loss`, `g_loss`, `g_adv`, `g_nce` (unweighted), `g_nce_identity` (CUT only) and
    `l1`, the mean absolute error of G(a) against b (meaningful for aligned pairs, as
    bluemarble's tiles); validation reports `g_nce` (at fixed positions) and `l1`. Calling
    the model runs G.

    The heads are built in the constructor from the feature layers' channels (the reference
    code creates them at the first batch) and trained by `g_optimizer` together with G (the
    reference code gives them an Adam of their own with the same settings; Adam's update is
    per weight, so the two are the same). Flip-equivariance (FastCUT's optional
    augmentation) is not implemented.

    Args:
        generator: G, a functional Keras model, images [N, H, W, C] in [-1, 1] -> same
            shape in [-1, 1], with the layers `nce_layers` (e.g. `resnet_generator()`).
        discriminator: an unconditional discriminator returning logits of any shape, e.g.
            `patch_discriminator(70, conditional=False, norm="instance")`.
        nce_layers: names of G's layers whose outputs are compared (default
            `kgan.networks.NCE_LAYERS`, the paper's layers 0, 4, 8, 12, 16).
        head_units: units of both dense layers of each projection head (256).
        augment_on_device: apply the pix2pix jitter and flip at the start of each
            `train_step` instead of in the tf.data pipeline.
        seed: seed of the patch positions and of the on-device augmentation.

    Compile arguments (besides `g_optimizer`, for G and the heads, and `d_optimizer`; see
    `GANModel.compile`); `CUT.MODES["cut"]` and `CUT.MODES["fastcut"]` hold the two
    variants' `nce_weight` and `nce_identity`:
        adversarial_loss: "lsgan" (the paper's), "bce", "hinge" or a
            `kgan.losses.AdversarialLoss`.
        nce_weight: lambda_NCE (1 for CUT, 10 for FastCUT).
        nce_identity: whether the identity term on B images is used (CUT) or not (FastCUT).
        temperature: tau of the PatchNCE loss (0.07).
        num_patches: positions sampled per layer and image (256; fewer when a feature map
            has fewer positions).

    Data: `fit` takes `(real_a, real_b)` batches, float32 [N, H, W, 3] in [-1, 1], the two
    domains shuffled independently (`kgan.data.prepare_unpaired`).
    """

    GENERATOR_NETWORKS = ("generator",)
    DISCRIMINATOR_NETWORKS = ("discriminator",)
    CURVES = {**GANModel.CURVES, "reconstruction": "g_nce"}
    COMPILE_ARGUMENTS = {
        "adversarial_loss": ("lsgan", losses.get_adversarial),
        "nce_weight": (1.0, float),
        "nce_identity": (True, bool),
        "temperature": (0.07, float),
        "num_patches": (256, int),
    }
    LOG_KEYS = ("d_loss", "g_loss", "g_adv", "g_nce", "g_nce_identity", "l1")
    STEP_SEEDS = 4  # the two PatchNCE terms' positions, then the two on-device jitters'
    VALIDATION_KEYS = ("g_nce", "l1")
    MODES = {
        "cut": {"nce_weight": 1.0, "nce_identity": True},
        "fastcut": {"nce_weight": 10.0, "nce_identity": False},
    }

    def __init__(self, generator, discriminator, nce_layers=NCE_LAYERS, head_units=256,
                 augment_on_device=False, seed=None, **kwargs):
        super().__init__(generator, discriminator, augment_on_device=augment_on_device,
                         seed=seed, **kwargs)
        self.nce_layers = tuple(nce_layers)
        self.head_units = int(head_units)
        if not self.nce_layers:
            raise ConfigError("CUT needs at least one layer in nce_layers")
        # Private, so that .keras files and checkpoints keep the shared layers' weights under
        # `generator` (Keras visits private attributes last).
        self._encoder = resnet_features(generator, self.nce_layers)
        self._translate_and_encode = keras.Model(
            generator.inputs, [generator.outputs[0], *self._encoder.outputs],
            name=f"{generator.name}_with_features",
        )
        self.projection_heads = [
            self._projection_head(name, output.shape[-1])
            for name, output in zip(self.nce_layers, self._encoder.outputs)
        ]
        # Real and fake images through D in one call, unless D normalises over the batch.
        self.fuse_discriminator_calls = not normalises_over_the_batch(discriminator)

    def _projection_head(self, layer, channels):
        """Dense(head_units), ReLU, Dense(head_units) on the features of one layer."""
        if channels is None:
            raise ConfigError(f"layer {layer!r} of the generator has no fixed channel count")
        dense = lambda **kwargs: keras.layers.Dense(
            self.head_units, kernel_initializer=conv_init(), **kwargs
        )
        return keras.Sequential(
            [keras.Input((None, channels)), dense(activation="relu"), dense()],
            name=f"{layer}_head",
        )

    @property
    def generator_variables(self):
        heads = [v for head in self.projection_heads for v in head.trainable_variables]
        return super().generator_variables + heads

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    def augment(self, batch, seeds):
        from kgan.data.transforms import random_jitter

        real_a, real_b = batch
        return random_jitter(real_a, seeds[2]), random_jitter(real_b, seeds[3])

    def generate(self, batch, seeds):
        """(G's outputs for A, then for B when `nce_identity`; G's encoder features of those
        inputs)."""
        real_a, real_b = batch
        reals = ops.concatenate([real_a, real_b], axis=0) if self.nce_identity else real_a
        outputs, *real_features = self._translate_and_encode(reals, training=True)
        return outputs, real_features

    def discriminator_loss(self, batch, fakes, seeds):
        real_a, real_b = batch
        fake_b = fakes[0][:ops.shape(real_a)[0]]
        real_logits, fake_logits = real_and_fake_logits(
            self.discriminator, real_b, fake_b, fused=self.fuse_discriminator_calls)
        d_loss = self.adversarial_loss.discriminator_loss(real_logits, fake_logits)
        return d_loss, {"d_loss": d_loss}

    def generator_loss(self, batch, fakes, seeds):
        real_a, real_b = batch
        outputs, real_features = fakes
        count = ops.shape(real_a)[0]
        fake_b = outputs[:count]
        g_adv = self.adversarial_loss.generator_loss(self.discriminator(fake_b, training=True))
        output_features = self._encoder(outputs, training=True)
        first = lambda features: [f[:count] for f in features]
        g_nce = self._feature_nce(first(real_features), first(output_features), seeds[0])
        logs = {"g_adv": g_adv, "g_nce": g_nce, "l1": losses.l1_loss(real_b, fake_b)}
        if self.nce_identity:
            rest = lambda features: [f[count:] for f in features]
            g_nce_identity = self._feature_nce(rest(real_features), rest(output_features), seeds[1])
            g_loss = g_adv + self.nce_weight * 0.5 * (g_nce + g_nce_identity)
            logs["g_nce_identity"] = g_nce_identity
        else:
            g_loss = g_adv + self.nce_weight * g_nce
        return g_loss, {"g_loss": g_loss, **logs}

    @property
    def log_keys(self):
        """The keys `train_step` reports: LOG_KEYS, without `g_nce_identity` for FastCUT."""
        return tuple(k for k in self.LOG_KEYS if k != "g_nce_identity" or self.nce_identity)

    def nce_loss(self, sources, outputs, seed=VALIDATION_SEED, training=False):
        """PatchNCE between images and their translations, averaged over `nce_layers`.

        Args:
            sources: float32 [N, H, W, C] in [-1, 1], G's inputs.
            outputs: the same shape, their translations (G(sources), or any images).
            seed: int32 [2], the stateless seed of the patch positions.
            training: the mode G's layers run in.

        Returns:
            float32 scalar, unweighted (`g_nce` of the logs).
        """
        return self._feature_nce(self._encoder(sources, training=training),
                                 self._encoder(outputs, training=training), seed)

    def _feature_nce(self, source_features, output_features, seed):
        """Mean over the layers of the PatchNCE between the projected, sampled features."""
        layer_seeds = seeds.split(seed, len(self.nce_layers))
        total = 0.0
        for i, head in enumerate(self.projection_heads):
            positions = losses.patch_positions(source_features[i], self.num_patches, layer_seeds[i])
            key, query = (
                l2_normalize(ops.cast(head(losses.gather_patches(features, positions)), "float32"))
                for features in (source_features[i], output_features[i])
            )
            total += losses.patch_nce_loss(query, key, self.temperature)
        return total / len(self.nce_layers)

    def validation_logs(self, batch):
        real_a, real_b = batch
        fake_b = self.generator(real_a, training=False)
        return {"g_nce": self.nce_loss(real_a, fake_b), "l1": losses.l1_loss(real_b, fake_b)}


def l2_normalize(x):
    """x / ||x|| over the last axis, as `tf.math.l2_normalize` (squared norm floored at 1e-12)."""
    return x * ops.rsqrt(ops.maximum(ops.sum(ops.square(x), axis=-1, keepdims=True), 1e-12))
