"""GANModel: what every kgan GAN shares, so that a model file holds only its losses.

A subclass declares its sub-networks, compile arguments, log keys, the generators a run
exports and the loss curves a report draws as class attributes;
from those the base makes the constructor's network attributes, `get_config`/`from_config`,
`compile` with one generator and one discriminator optimizer, `get_compile_config`/
`compile_from_config`, and one `keras.metrics.Mean` tracker per log key.

The training step is written once for both backends. A subclass states, with `keras.ops`
only, what its generators compute (`generate`) and its two losses as functions of the batch
and those outputs (`discriminator_loss`, `generator_loss`); the base differentiates them with
TensorFlow's `GradientTape` or with `jax.vjp`/`jax.value_and_grad` over the variables'
values (`kgan.models.jax_step`), and updates D then G, or G then D (`DISCRIMINATOR_FIRST`).
"""

import inspect

import keras

from kgan import losses, seeds
from kgan.atomic import atomic_path
from kgan.models.training import (OptimizerPair, apply_gradients, build_optimizer,
                                  on_tensorflow, scaled_loss, stop_gradient)


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
        DISCRIMINATOR_FIRST: whether a step updates D before G (pix2pix, CUT: G is then
            judged by the updated D) or after (CycleGAN), as the papers' code does.
        STEP_SEEDS: how many stateless seeds a step draws (`next_seeds`) for its hooks.
    and write the step's hooks with `keras.ops` (see `train_step`): `generate`,
    `discriminator_loss`, `generator_loss`, `validation_logs` and, for on-device
    augmentation, `augment`. A model may instead override `train_step(data)` and
    `test_step(data)` with TensorFlow code (TensorFlow backend only), ending them with
    `return self.logs()` and `return self.logs(self.VALIDATION_KEYS)`. Every other
    constructor argument must be stored as an attribute of the same name: `get_config`
    reads them back from the signature.

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
    DISCRIMINATOR_FIRST = True
    STEP_SEEDS = 0

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
        if not on_tensorflow():
            # Keras' JAX trainer threads `self.optimizer.variables` through the step.
            self.optimizer = OptimizerPair(self.g_optimizer, self.d_optimizer)
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

    @property
    def log_keys(self):
        """The keys `train_step` reports (default LOG_KEYS)."""
        return self.LOG_KEYS

    # The step's hooks. Tensors follow the models' data: images float32 [N, H, W, C] in [-1, 1].

    def augment(self, batch, seeds):
        """The batch after on-device augmentation (`augment_on_device`); default unchanged."""
        return batch

    def generate(self, batch, seeds):
        """What the generators compute in training mode that both losses use: a tensor or a
        nest of tensors ("fakes"). The discriminator loss gets them with gradients stopped."""
        raise NotImplementedError(f"{type(self).__name__} defines neither generate() nor train_step()")

    def discriminator_loss(self, batch, fakes, seeds):
        """(float32 scalar minimised by D's variables, {log key: value})."""
        raise NotImplementedError

    def generator_loss(self, batch, fakes, seeds):
        """(float32 scalar minimised by G's variables, {log key: value}); D is the updated
        one when DISCRIMINATOR_FIRST."""
        raise NotImplementedError

    def validation_logs(self, batch):
        """{log key: value} of VALIDATION_KEYS on one batch, the networks in inference mode."""
        raise NotImplementedError

    def train_step(self, *args):
        """One D update and one G update from the hooks, on either backend.

        TensorFlow's trainer calls `train_step(data)`; the JAX trainer calls
        `train_step(state, data)` with the model's variable values and takes back
        `(logs, state)`.
        """
        if not on_tensorflow():
            from kgan.models.jax_step import train_step

            return train_step(self, *args)
        import tensorflow as tf

        batch = args[0]
        step_seeds = self.next_seeds(self.STEP_SEEDS) if self.STEP_SEEDS else None
        if self.augment_on_device:
            batch = self.augment(batch, step_seeds)
        with tf.GradientTape() as g_tape:
            fakes = self.generate(batch, step_seeds)
            if self.DISCRIMINATOR_FIRST:
                with g_tape.stop_recording():
                    d_logs = self._tensorflow_discriminator_step(batch, fakes, step_seeds)
            g_loss, g_logs = self.generator_loss(batch, fakes, step_seeds)
            scaled = scaled_loss(self.g_optimizer, g_loss)
        apply_gradients(self.g_optimizer, g_tape, scaled, self.generator_variables)
        if not self.DISCRIMINATOR_FIRST:
            d_logs = self._tensorflow_discriminator_step(batch, fakes, step_seeds)
        self.update_logs(**d_logs, **g_logs)
        return self.logs(self.log_keys)

    def _tensorflow_discriminator_step(self, batch, fakes, step_seeds):
        import tensorflow as tf

        with tf.GradientTape() as d_tape:
            d_loss, d_logs = self.discriminator_loss(batch, stop_gradient(fakes), step_seeds)
            scaled = scaled_loss(self.d_optimizer, d_loss)
        apply_gradients(self.d_optimizer, d_tape, scaled, self.discriminator_variables)
        return d_logs

    def test_step(self, *args):
        """`validation_logs` into the trackers, on either backend (see `train_step`)."""
        if not on_tensorflow():
            from kgan.models.jax_step import test_step

            return test_step(self, *args)
        self.update_logs(**self.validation_logs(args[0]))
        return self.logs(self.VALIDATION_KEYS)

    def update_logs(self, **values):
        """Add one step's values to the trackers of those log keys."""
        for key, value in values.items():
            self.trackers[key].update_state(value)

    def logs(self, keys=None):
        """{key: running mean} of `keys` (default LOG_KEYS), what a step returns."""
        logs = {key: self.trackers[key].result() for key in keys or self.LOG_KEYS}
        if not on_tensorflow():
            return logs
        import tensorflow as tf

        if isinstance(tf.distribute.get_strategy(), tf.distribute.MultiWorkerMirroredStrategy):
            # Keras 3.15 averages a step's outputs over the workers' replicas with
            # reduce("MEAN", axis=0), which needs an axis: one per replica, reduced away.
            logs = {key: tf.reshape(value, [1]) for key, value in logs.items()}
        return logs

    def next_seeds(self, count):
        """`count` independent stateless seeds ([count, 2], see `kgan.seeds`) for this step."""
        return seeds.split(self.seed_generator.next(), count)

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
