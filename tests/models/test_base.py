"""GANModel: what a new GAN gets from the base, shown on a third model of a few lines."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from model_harness import (check_config_round_trip, check_refuses_to_save, check_save_and_load,
                           check_trains)
import kgan
from kgan import losses
from kgan.models.training import apply_gradients, build_optimizer
from kgan.precision import precision_policy


@keras.saving.register_keras_serializable(package="kgan_tests")
class NoiseToImage(kgan.GANModel):
    """An unconditional GAN as a new model file would write it: declarations and the steps."""

    GENERATOR_NETWORKS = ("generator",)
    DISCRIMINATOR_NETWORKS = ("discriminator",)
    COMPILE_ARGUMENTS = {"adversarial_loss": ("lsgan", losses.get_adversarial)}
    LOG_KEYS = ("d_loss", "g_loss")
    VALIDATION_KEYS = ("g_loss",)

    def __init__(self, generator, discriminator, noise_scale=1.0, **kwargs):
        super().__init__(generator, discriminator, **kwargs)
        self.noise_scale = noise_scale

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    def train_step(self, data):
        noise = self.noise_scale * data
        with tf.GradientTape() as tape:
            fake_logits = self.discriminator(self.generator(noise), training=True)
            g_loss = self.adversarial_loss.generator_loss(fake_logits)
        apply_gradients(self.g_optimizer, tape, g_loss, self.generator_variables)
        with tf.GradientTape() as tape:
            d_loss = self.adversarial_loss.discriminator_loss(
                self.discriminator(data, training=True), self.discriminator(self.generator(noise)))
        apply_gradients(self.d_optimizer, tape, d_loss, self.discriminator_variables)
        self.update_logs(d_loss=d_loss, g_loss=g_loss)
        return self.logs()

    def test_step(self, data):
        self.update_logs(g_loss=self.adversarial_loss.generator_loss(self.discriminator(self(data))))
        return self.logs(self.VALIDATION_KEYS)


def dense(name):
    inputs = keras.Input((4,))
    return keras.Model(inputs, keras.layers.Dense(4)(inputs), name=name)


def noise_to_image(**kwargs):
    return NoiseToImage(dense("generator"), dense("discriminator"), **kwargs)


def data():
    return tf.data.Dataset.from_tensor_slices(np.ones((8, 4), "float32")).batch(4)


def test_config_holds_exactly_the_constructor_arguments(tmp_path):
    model = noise_to_image(noise_scale=0.5, seed=2, augment_on_device=True)
    config = model.get_config()
    assert {"generator", "discriminator", "noise_scale", "augment_on_device", "seed"} <= set(config)
    clone = check_config_round_trip(model)
    assert (clone.noise_scale, clone.seed, clone.augment_on_device) == (0.5, 2, True)


def test_trackers_follow_the_log_keys_and_are_the_models_metrics(tmp_path):
    model = noise_to_image()
    assert [m.name for m in model.metrics] == ["d_loss", "g_loss"]
    model.compile(adversarial_loss="hinge")
    assert isinstance(model.adversarial_loss, losses.Hinge)
    logs = check_trains(model, data(), NoiseToImage.LOG_KEYS, steps_per_epoch=None)
    assert set(logs) == {"d_loss", "g_loss"}
    assert set(model.evaluate(data(), return_dict=True, verbose=0)) == {"g_loss"}


def test_compile_config_survives_save_and_reload(tmp_path, registered_adversarial_loss):
    model = noise_to_image()
    model.compile(g_optimizer=keras.optimizers.SGD(0.1), adversarial_loss=registered_adversarial_loss)
    model.fit(data(), epochs=1, verbose=0)
    loaded = check_save_and_load(model, np.ones((2, 4), "float32"), tmp_path)
    assert isinstance(loaded.g_optimizer, keras.optimizers.SGD)
    assert int(loaded.d_optimizer.iterations) == 2
    check_trains(loaded, data(), NoiseToImage.LOG_KEYS, steps_per_epoch=None)


def test_an_unregistered_subclass_of_adversarial_loss_is_refused(tmp_path):
    class Flipped(losses.LSGAN):
        pass

    model = noise_to_image()
    model.compile(adversarial_loss=Flipped())
    check_refuses_to_save(model, "cannot save adversarial_loss '.*Flipped'", tmp_path)


def test_networks_are_counted_and_compile_arguments_checked():
    class NoConstructor(kgan.GANModel):
        GENERATOR_NETWORKS = ("generator",)
        DISCRIMINATOR_NETWORKS = ("discriminator",)

    with pytest.raises(TypeError, match="takes 2 networks: generator, discriminator"):
        NoConstructor(dense("generator"))
    with pytest.raises(TypeError, match="cycle_weight"):
        noise_to_image().compile(cycle_weight=3.0)


def test_optimizer_helpers_take_variable_lists():
    first, second = dense("first"), dense("second")
    variables = first.trainable_variables + second.trainable_variables
    optimizer = build_optimizer(keras.optimizers.Adam(0.1), variables)
    assert optimizer.built and len(optimizer.variables) == 1 + 1 + 2 * len(variables)
    before = [v.numpy() for v in variables]
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(second(first(tf.ones((1, 4)))))
    apply_gradients(optimizer, tape, loss, variables)
    assert all(not np.array_equal(b, v.numpy()) for b, v in zip(before, variables))


@pytest.mark.parametrize("precision, scaled", [("mixed_float16", True),
                                               ("mixed_bfloat16", False), ("float32", False)])
def test_build_optimizer_scales_losses_only_under_float16(precision, scaled):
    with precision_policy(precision):
        optimizer = build_optimizer(None, dense("g").trainable_variables)
        assert keras.mixed_precision.global_policy().name == precision
    assert isinstance(optimizer, keras.optimizers.LossScaleOptimizer) == scaled
    assert keras.mixed_precision.global_policy().name == "float32"
