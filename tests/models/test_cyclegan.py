"""CycleGAN model: shapes, config and .keras round trips, fit, and a learning test."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import kgan
from kgan.data import bluemarble_tiles, prepare_unpaired

from model_harness import check_config_round_trip, check_refuses_to_save
from helpers import unpaired_batches


def tiny_cyclegan(pool_size=50, norm="instance", seed=0, **kwargs):
    generator = lambda: kgan.resnet_generator(32, n_blocks=1, base_filters=8, norm=norm)
    discriminator = lambda: kgan.patch_discriminator(16, conditional=False, base_filters=8, norm="instance")
    return kgan.CycleGAN(generator(), generator(), discriminator(), discriminator(),
                         pool_size=pool_size, seed=seed, **kwargs)


def test_call_runs_g_on_odd_batches_and_non_square_images():
    model = tiny_cyclegan()
    x = tf.random.stateless_uniform([3, 32, 48, 3], [5, 6], -1.0, 1.0)
    y = model(x)
    assert y.shape == (3, 32, 48, 3) and y.dtype == tf.float32
    np.testing.assert_allclose(y, model.generator_ab(x), atol=1e-6)


LOG_KEYS = {"d_loss", "d_loss_a", "d_loss_b", "g_loss", "g_adv", "g_cycle", "g_identity", "l1"}


def test_two_step_fit_reports_finite_losses_and_fills_the_pools():
    model = tiny_cyclegan()
    model.compile()
    history = model.fit(unpaired_batches(n=6, height=32, width=40, batch_size=3), epochs=1,
                        verbose=0, validation_data=unpaired_batches(n=3, width=40))
    assert set(history.history) == LOG_KEYS | {"val_g_cycle", "val_l1"}
    assert all(np.isfinite(values).all() for values in history.history.values())
    assert int(model.pool_a.count) == int(model.pool_b.count) == 6
    assert model.pool_b.images.shape == (50, 32, 40, 3)


def test_fit_under_xla_and_without_identity_or_pool():
    model = tiny_cyclegan(pool_size=0, augment_on_device=True)
    model.compile(identity_weight=0.0, adversarial_loss="bce", cycle_loss="l1+l2", jit_compile=True)
    history = model.fit(unpaired_batches(), epochs=1, verbose=0)
    assert history.history["g_identity"] == [0.0]
    assert np.isfinite(history.history["g_loss"]).all()


def test_losses_combine_as_the_paper():
    """g_loss = g_adv + cycle_weight * (g_cycle + identity_weight * g_identity); d_loss, what
    the discriminators' optimizer minimises, is the sum of both discriminators' losses."""
    model = tiny_cyclegan(pool_size=2)
    model.compile(cycle_weight=7.0, identity_weight=0.25, g_optimizer=keras.optimizers.SGD(0.0),
                  d_optimizer=keras.optimizers.SGD(0.0))
    logs = model.fit(unpaired_batches(n=2), epochs=1, verbose=0).history
    expected = logs["g_adv"][0] + 7.0 * (logs["g_cycle"][0] + 0.25 * logs["g_identity"][0])
    assert logs["g_loss"][0] == pytest.approx(expected, rel=1e-5)
    assert logs["d_loss"][0] == pytest.approx(logs["d_loss_a"][0] + logs["d_loss_b"][0], rel=1e-5)


def test_validation_reports_the_cycle_loss_and_the_l1_error_of_g():
    model = tiny_cyclegan(pool_size=0)
    model.compile(cycle_loss="l2")
    a, b = (x.numpy() for x in next(iter(unpaired_batches(n=2))))
    fake_b = model.generator_ab(a, training=False).numpy()
    cycled_a = model.generator_ba(fake_b, training=False).numpy()
    cycled_b = model.generator_ab(model.generator_ba(b, training=False), training=False).numpy()
    result = model.evaluate(unpaired_batches(n=2), return_dict=True, verbose=0)
    assert set(result) == {"g_cycle", "l1"}
    assert result["l1"] == pytest.approx(np.abs(fake_b - b).mean(), rel=1e-5)
    cycle = ((cycled_a - a) ** 2).mean() + ((cycled_b - b) ** 2).mean()
    assert result["g_cycle"] == pytest.approx(cycle, rel=1e-5)


def test_config_json_round_trip(tmp_path):
    model = tiny_cyclegan(pool_size=7, seed=3)
    clone = check_config_round_trip(model)
    assert (clone.pool_size, clone.seed) == (7, 3)
    clone.generator_ab.set_weights(model.generator_ab.get_weights())
    x = tf.random.stateless_uniform([1, 32, 32, 3], [7, 8], -1.0, 1.0)
    np.testing.assert_allclose(clone(x), model(x), atol=1e-6)


def test_an_unregistered_cycle_loss_is_refused_at_save_time(tmp_path):
    def cubed_error(target, output):
        return tf.reduce_mean(tf.abs(target - output) ** 3)

    model = tiny_cyclegan(pool_size=0)
    model.compile(cycle_loss=cubed_error)
    check_refuses_to_save(model, "cannot save cycle_loss '.*cubed_error'", tmp_path)


@pytest.mark.slow
def test_learns_a_hidden_colour_inversion_from_unpaired_tiles():
    """B = 255 - A on two disjoint halves of the bluemarble satellite tiles (no image of B
    is the inverse of an image of A). After 400 steps G's output on held-out tiles is far
    closer to the true inverse than the identity mapping is.

    The generators use batch norm: instance norm removes each tile's mean colour, which at
    32 px is most of what a satellite tile holds, and N(0, 0.02) weights without any norm
    learn too slowly for a few hundred steps.
    """
    keras.utils.set_random_seed(0)
    satellite, _ = bluemarble_tiles("train", 32)
    half = len(satellite) // 2
    source_a = tf.data.Dataset.from_tensor_slices(satellite[:half])
    source_b = tf.data.Dataset.from_tensor_slices(255 - satellite[half:])
    train = prepare_unpaired(source_a, source_b, 32, batch_size=4, training=True, augment=False)
    generator = lambda: kgan.resnet_generator(32, n_blocks=2, base_filters=16, norm="batch")
    discriminator = lambda: kgan.patch_discriminator(16, conditional=False, base_filters=16, norm="instance")
    model = kgan.CycleGAN(generator(), generator(), discriminator(), discriminator(), seed=0)
    adam = lambda: keras.optimizers.Adam(5e-4, beta_1=0.5)
    model.compile(g_optimizer=adam(), d_optimizer=adam(), identity_weight=0.0)
    model.fit(train, steps_per_epoch=400, epochs=1, verbose=0)

    test, _ = bluemarble_tiles("test", 32)
    real_a = test.astype("float32") / 127.5 - 1.0
    truth = -real_a  # 255 - x in [-1, 1]
    error = np.abs(model.predict(real_a, batch_size=64, verbose=0) - truth).mean()
    identity_error = np.abs(real_a - truth).mean()
    assert error < 0.5 * identity_error, (error, identity_error)
