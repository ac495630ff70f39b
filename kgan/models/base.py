"""GANModel: what every kgan GAN shares, so that a model file holds only its training step.

A subclass declares its sub-networks, compile arguments, log keys, the generators a run
exports and the loss curves a report draws as class attributes;
from those the base makes the constructor's network attributes, `get_config`/`from_config`,
`compile` with one generator and one discriminator optimizer, `get_compile_config`/
`compile_from_config`, and one `keras.metrics.Mean` tracker per log key.
"""

import inspect

import keras
import tensorflow as tf

from kgan import losses
from kgan.atomic import atomic_path
from kgan.models.training import build_optimizer


class GANModel(keras.Model):
    """Base of the kgan GANs: generator networks and discriminator networks trained in turn.

    Subclasses set:
        GENERATOR_NETWORKS: names of the constructor arguments that `g_optimizer` trains, in
            constructor order (they come first, then DISCRIMINATOR_NETWORKS).
        DISCRIMINATOR_NETWORKS: names of those that `d_optimizer` trains.
        EXPORTS: {network attribute: (export suffix, description)} of the generators a
            trained run saves as `<attribute>.keras` and `--export NAME` exports as
            NAME<suffix>, in that order; the first is the one `--eval-every` scores
            (default: `generator`, exported as NAME).
        CURVES: {panel: log key} of the training-loss curves a sweep report draws, for the
            panels "discriminator", "reconstruction", "adversarial" and "total" (default:
            d_loss, g_adv and g_loss; a model adds its reconstruction-like term).
        COMPILE_ARGUMENTS: {name: (default, resolve)} of `compile`'s arguments besides the
            two optimizers; `compile` stores `resolve(value)` as an attribute of that name.
        LOG_KEYS: the tracker names `train_step` reports, in order (README, "Log keys").
        VALIDATION_KEYS: the subset `test_step` reports (`val_` prefix in `fit`'s logs).
    and write `train_step` and `test_step`, ending them with `return self.logs()` and
    `return self.logs(self.VALIDATION_KEYS)`. Every other constructor argument must be stored
    as an attribute of the same name: `get_config` reads them back from the signature.

    Args:
        *networks: the GENERATOR_NETWORKS then the DISCRIMINATOR_NETWORKS, Keras models.
        augment_on_device: apply the pix2pix jitter and flip at the start of each
            `train_step` (on the accelerator) instead of in the tf.data pipeline.
        seed: seed of `next_seeds` (on-device augmentation, image pools).
    """

    GENERATOR_NETWORKS = ()
    DISCRIMINATOR_NETWORKS = ()
    EXPORTS = {"generator": ("", "the generator")}
    CURVES = {"discriminator": "d_loss", "adversarial": "g_adv", "total": "g_loss"}
    COMPILE_ARGUMENTS = {}
    LOG_KEYS = ()
    VALIDATION_KEYS = ()

    def __init__(self, *networks, augment_on_device=False, seed=None, **kwargs):
        super().__init__(**kwargs)
        names = self.GENERATOR_NETWORKS + self.DISCRIMINATOR_NETWORKS
        if len(networks) != len(names):
            raise TypeError(f"{type(self).__name__} takes {len(names)} networks: {', '.join(names)}")
        for name, network in zip(names, networks):
            setattr(self, name, network)
        self.augment_on_device = augment_on_device
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed, name="seed_generator")
        self.trackers = {key: keras.metrics.Mean(name=key) for key in self.LOG_KEYS}
        # Built functional sub-networks leave nothing to build here.
        self.built = all(network.built for network in networks)

    @property
    def generator_variables(self):
        return [v for name in self.GENERATOR_NETWORKS
                for v in getattr(self, name).trainable_variables]

    @property
    def discriminator_variables(self):
        return [v for name in self.DISCRIMINATOR_NETWORKS
                for v in getattr(self, name).trainable_variables]

    def compile(self, g_optimizer=None, d_optimizer=None, **kwargs):
        """Configure training: the two optimizers, then COMPILE_ARGUMENTS (see the subclass).

        Args:
            g_optimizer, d_optimizer: Keras optimizers (default Adam(2e-4, beta_1=0.5), the
                papers'). Under a mixed-float16 policy they are wrapped for loss scaling.
            **kwargs: the subclass's COMPILE_ARGUMENTS, the rest passed to
                `keras.Model.compile` (`jit_compile`, `steps_per_execution`).
        """
        arguments = {
            name: resolve(kwargs.pop(name, default))
            for name, (default, resolve) in self.COMPILE_ARGUMENTS.items()
        }
        super().compile(**kwargs)
        self.g_optimizer = build_optimizer(g_optimizer, self.generator_variables)
        self.d_optimizer = build_optimizer(d_optimizer, self.discriminator_variables)
        for name, value in arguments.items():
            setattr(self, name, value)

    @property
    def metrics(self):
        return list(self.trackers.values())

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        """Keras' symbolic build under a distribution strategy: skipped for a built model,
        else from the data's spec instead of its first batch.

        Keras 3.15 would build `keras.Model`'s own optimizer, unused by the GANs, so that
        checkpoints written under a strategy hold state that others lack; it takes a batch
        from the iterator for this build and restarts it, so that a pipeline which
        reshuffles on each pass trains on another order than without a strategy; and it
        reduces that batch with one `strategy.reduce` of the whole tuple, which
        MultiWorkerMirroredStrategy refuses. The build needs only shapes and dtypes.
        """
        if all(layer.built for layer in self._flatten_layers()):
            return
        if iterator is not None and data_batch is None:
            data_batch = iterator.data_adapter.get_tf_dataset().element_spec
            iterator = None
        super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)

    def update_logs(self, **values):
        """Add one step's values to the trackers of those log keys."""
        for key, value in values.items():
            self.trackers[key].update_state(value)

    def logs(self, keys=None):
        """{key: running mean} of `keys` (default LOG_KEYS), what a step returns."""
        logs = {key: self.trackers[key].result() for key in keys or self.LOG_KEYS}
        if isinstance(tf.distribute.get_strategy(), tf.distribute.MultiWorkerMirroredStrategy):
            # Keras 3.15 averages a step's outputs over the workers' replicas with
            # reduce("MEAN", axis=0), which needs an axis: one per replica, reduced away.
            logs = {key: tf.reshape(value, [1]) for key, value in logs.items()}
        return logs

    def next_seeds(self, count):
        """`count` independent stateless seeds (int32 [count, 2]) for this step."""
        return tf.random.experimental.stateless_split(
            tf.cast(self.seed_generator.next(), tf.int32), count
        )

    def get_config(self):
        config = super().get_config()
        networks = self.GENERATOR_NETWORKS + self.DISCRIMINATOR_NETWORKS
        for name in networks:
            config[name] = keras.saving.serialize_keras_object(getattr(self, name))
        for name in self._constructor_options():
            config[name] = getattr(self, name)
        return config

    @classmethod
    def _constructor_options(cls):
        """Named arguments of the constructors from `cls` up to GANModel, networks aside."""
        options = []
        for klass in cls.__mro__[:cls.__mro__.index(GANModel) + 1]:
            if "__init__" in vars(klass):
                for name, parameter in inspect.signature(klass.__init__).parameters.items():
                    named = parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY)
                    networks = (*cls.GENERATOR_NETWORKS, *cls.DISCRIMINATOR_NETWORKS)
                    if named and name not in ("self", *options, *networks):
                        options.append(name)
        return options

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        networks = [
            keras.saving.deserialize_keras_object(config.pop(name))
            for name in cls.GENERATOR_NETWORKS + cls.DISCRIMINATOR_NETWORKS
        ]
        return cls(*networks, **config)

    def save(self, filepath, overwrite=True, **kwargs):
        """`keras.Model.save`, atomic, after refusing a loss that would not load back (Keras
        would leave a partial file behind)."""
        self.get_compile_config()
        if not overwrite:  # Keras asks before replacing the file
            return super().save(filepath, overwrite=False, **kwargs)
        with atomic_path(filepath) as tmp:
            super().save(tmp, **kwargs)

    def get_compile_config(self):
        """The compile arguments; raises `KganError` for a loss that would not load back."""
        if not self.compiled:
            return None
        config = {
            name: keras.saving.serialize_keras_object(getattr(self, name))
            for name in ("g_optimizer", "d_optimizer")
        }
        for name in self.COMPILE_ARGUMENTS:
            value = getattr(self, name)
            config[name] = value if isinstance(value, (int, float, str)) else losses.serialize(value, name)
        return config

    def compile_from_config(self, config):
        self.compile(**{
            key: keras.saving.deserialize_keras_object(value) if isinstance(value, dict) else value
            for key, value in config.items()
        })
