"""CUT and FastCUT: shapes, both modes' losses and logs, config and .keras round trips, mixed
precision, XLA, and a learning test."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import kgan
from kgan.data import bluemarble_tiles, prepare_unpaired
from kgan.errors import ConfigError
from kgan.precision import precision_policy

from model_harness import check_config_round_trip, check_save_and_load, check_trains
from helpers import unpaired_batches

# A one-block ResNet has no fifth block: the paper's layers up to the first block.
LAYERS = ("in_pad", "down0_conv", "down1_conv", "block0_add")
LOG_KEYS = {"cut": {"d_loss", "g_loss", "g_adv", "g_nce", "g_nce_identity", "l1"},
            "fastcut": {"d_loss", "g_loss", "g_adv", "g_nce", "l1"}}


def tiny_cut(seed=0, **kwargs):
    generator = kgan.resnet_generator(32, n_blocks=1, base_filters=8, norm="instance")
    discriminator = kgan.patch_discriminator(16, conditional=False, base_filters=8, norm="instance")
    return kgan.CUT(generator, discriminator, nce_layers=LAYERS, head_units=16, seed=seed, **kwargs)


def test_call_runs_g_on_odd_batches_and_non_square_images():
    model = tiny_cut()
    x = tf.random.stateless_uniform([3, 32, 48, 3], [5, 6], -1.0, 1.0)
    y = model(x)
    assert y.shape == (3, 32, 48, 3) and y.dtype == tf.float32
    np.testing.assert_allclose(y, model.generator(x), atol=1e-6)


def test_one_projection_head_per_layer_on_its_channels():
    model = tiny_cut()
    assert [head.name for head in model.projection_heads] == [f"{n}_head" for n in LAYERS]
    # in_pad: the image's 3 channels; down0: 2k; down1 and the blocks: 4k (k = 8).
    assert [head.input_shape[-1] for head in model.projection_heads] == [3, 16, 32, 32]
    assert all(head.output_shape[-1] == 16 for head in model.projection_heads)


@pytest.mark.parametrize("layers, match", [
    (kgan.networks.NCE_LAYERS, "has no layer 'block4_add'"),  # one block, not five
    ((), "at least one layer"),
])
def test_missing_feature_layers_are_one_line_config_errors(layers, match):
    generator = kgan.resnet_generator(32, n_blocks=1, base_filters=8)
    discriminator = kgan.patch_discriminator(16, conditional=False, base_filters=8)
    with pytest.raises(ConfigError, match=match) as error:
        kgan.CUT(generator, discriminator, nce_layers=layers)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("mode", ["cut", "fastcut"])
def test_two_step_fit_reports_finite_losses_with_the_modes_keys(mode):
    model = tiny_cut()
    model.compile(**kgan.CUT.MODES[mode])
    history = model.fit(unpaired_batches(n=6, height=32, width=40, batch_size=3), epochs=1,
                        verbose=0, validation_data=unpaired_batches(n=3, width=40))
    assert set(history.history) == LOG_KEYS[mode] | {"val_g_nce", "val_l1"}
    assert all(np.isfinite(values).all() for values in history.history.values())
    assert int(model.g_optimizer.iterations) == int(model.d_optimizer.iterations) == 2


@pytest.mark.parametrize("mode", ["cut", "fastcut"])
def test_losses_combine_as_the_paper(mode):
    """CUT: g_loss = g_adv + lambda * (g_nce + g_nce_identity) / 2; FastCUT: g_adv +
    lambda * g_nce (the reference code's compute_G_loss)."""
    model = tiny_cut()
    model.compile(nce_identity=mode == "cut", nce_weight=3.0,
                  g_optimizer=keras.optimizers.SGD(0.0), d_optimizer=keras.optimizers.SGD(0.0))
    logs = {k: v[0] for k, v in model.fit(unpaired_batches(n=2), epochs=1, verbose=0).history.items()}
    nce = (logs["g_nce"] + logs["g_nce_identity"]) / 2 if mode == "cut" else logs["g_nce"]
    assert logs["g_loss"] == pytest.approx(logs["g_adv"] + 3.0 * nce, rel=1e-5)


def test_nce_terms_compare_each_domain_with_its_own_translation():
    """With every position sampled the loss no longer depends on the draw: g_nce is PatchNCE
    between a and G(a), g_nce_identity between b and G(b)."""
    model = tiny_cut()
    model.compile(num_patches=10**6, g_optimizer=keras.optimizers.SGD(0.0),
                  d_optimizer=keras.optimizers.SGD(0.0))
    a, b = next(iter(unpaired_batches(n=2)))
    logs = model.fit(unpaired_batches(n=2), epochs=1, verbose=0).history
    assert logs["g_nce"][0] == pytest.approx(float(model.nce_loss(a, model(a))), rel=1e-4)
    assert logs["g_nce_identity"][0] == pytest.approx(float(model.nce_loss(b, model(b))), rel=1e-4)


def test_generator_and_heads_learn_from_g_optimizer_and_d_from_d_optimizer():
    model = tiny_cut()
    model.compile()
    heads = [head.get_weights() for head in model.projection_heads]
    g_variables = {id(v) for v in model.generator_variables}
    assert all(id(v) in g_variables for h in model.projection_heads for v in h.trainable_variables)
    model.fit(unpaired_batches(n=2), epochs=1, verbose=0)
    for before, head in zip(heads, model.projection_heads):
        assert any(not np.array_equal(a, b) for a, b in zip(before, head.get_weights())), head.name


def test_nce_loss_is_low_when_the_output_is_the_input():
    """A translation whose features match the input's scores far below an unrelated image."""
    model = tiny_cut()
    model.compile(num_patches=64)
    a, b = next(iter(unpaired_batches(n=2)))
    same, unrelated = float(model.nce_loss(a, a)), float(model.nce_loss(a, b))
    assert same < 0.5 * unrelated, (same, unrelated)


def test_validation_reports_nce_at_fixed_positions_and_the_l1_error_of_g():
    model = tiny_cut()
    model.compile(num_patches=32)
    a, b = next(iter(unpaired_batches(n=2)))
    fake_b = model.generator(a, training=False)
    first = model.evaluate(unpaired_batches(n=2), return_dict=True, verbose=0)
    again = model.evaluate(unpaired_batches(n=2), return_dict=True, verbose=0)
    assert set(first) == {"g_nce", "l1"} and first == again
    assert first["g_nce"] == pytest.approx(float(model.nce_loss(a, fake_b)), rel=1e-5)
    assert first["l1"] == pytest.approx(np.abs(fake_b - b).mean(), rel=1e-5)


def test_fit_under_xla_with_on_device_augmentation():
    model = tiny_cut(augment_on_device=True)
    model.compile(adversarial_loss="bce", jit_compile=True, **kgan.CUT.MODES["cut"])
    history = model.fit(unpaired_batches(), epochs=1, verbose=0)
    assert all(np.isfinite(values).all() for values in history.history.values())


@pytest.mark.parametrize("precision", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_trains_with_float32_outputs(precision):
    with precision_policy(precision):
        model = tiny_cut()
        model.compile(**kgan.CUT.MODES["fastcut"])
        scaled = isinstance(model.g_optimizer, keras.optimizers.LossScaleOptimizer)
        assert scaled == (precision == "mixed_float16")
        assert model.projection_heads[1].layers[0].compute_dtype == precision[len("mixed_"):]
        history = model.fit(unpaired_batches(), epochs=1, verbose=0)
    assert all(np.isfinite(values).all() for values in history.history.values())
    assert model(tf.zeros([1, 32, 32, 3])).dtype == tf.float32


def test_config_json_round_trip(tmp_path):
    model = tiny_cut(seed=3)
    clone = check_config_round_trip(model)
    assert (clone.nce_layers, clone.head_units, clone.seed) == (LAYERS, 16, 3)
    clone.generator.set_weights(model.generator.get_weights())
    x = tf.random.stateless_uniform([1, 32, 32, 3], [7, 8], -1.0, 1.0)
    np.testing.assert_allclose(clone(x), model(x), atol=1e-6)


def test_keras_save_load_equal_outputs_and_compile_config_then_trains_on(tmp_path):
    model = tiny_cut()
    model.compile(adversarial_loss="hinge", temperature=0.1, num_patches=32,
                  **kgan.CUT.MODES["fastcut"])
    model.fit(unpaired_batches(), epochs=1, verbose=0)
    x = tf.random.stateless_uniform([2, 32, 32, 3], [9, 10], -1.0, 1.0)
    loaded = check_save_and_load(model, x, tmp_path)
    assert isinstance(loaded.adversarial_loss, kgan.losses.Hinge)
    assert (loaded.nce_weight, loaded.nce_identity, loaded.temperature, loaded.num_patches) == (
        10.0, False, 0.1, 32)
    for head, loaded_head in zip(model.projection_heads, loaded.projection_heads):
        for a, b in zip(head.get_weights(), loaded_head.get_weights()):
            np.testing.assert_array_equal(a, b)
    assert float(loaded.nce_loss(x, x[::-1])) == pytest.approx(float(model.nce_loss(x, x[::-1])))
    assert int(loaded.g_optimizer.iterations) == int(model.g_optimizer.iterations) == 2
    check_trains(loaded, unpaired_batches(), LOG_KEYS["fastcut"], steps_per_epoch=None)


@pytest.mark.slow
def test_learns_a_hidden_colour_mapping_from_unpaired_tiles():
    """B = A // 2 + (128, 0, 64) (half the contrast, each channel shifted) on two disjoint
    halves of the bluemarble satellite tiles. After 400 CUT steps G's output on held-out tiles
    is far closer to the true mapping than the identity is, and follows each tile's content
    (per-channel correlation with the truth), which a constant colour cannot.

    The mapping keeps each patch recognisable, as CUT's contrastive loss asks; a colour
    inversion (CycleGAN's learning test) is not learned in a few hundred steps, since the
    loss starts out favouring outputs that look like their inputs. Batch norm in G for the
    reason given in the CycleGAN test.
    """
    keras.utils.set_random_seed(0)
    mapping = lambda tiles: (tiles // 2 + np.array([128, 0, 64], "uint8")).astype("uint8")
    satellite, _ = bluemarble_tiles("train", 32)
    half = len(satellite) // 2
    source_a = tf.data.Dataset.from_tensor_slices(satellite[:half])
    source_b = tf.data.Dataset.from_tensor_slices(mapping(satellite[half:]))
    train = prepare_unpaired(source_a, source_b, 32, batch_size=4, training=True, augment=False)
    generator = kgan.resnet_generator(32, n_blocks=2, base_filters=16, norm="batch")
    discriminator = kgan.patch_discriminator(16, conditional=False, base_filters=16, norm="instance")
    model = kgan.CUT(generator, discriminator, nce_layers=LAYERS + ("block1_add",), seed=0)
    adam = lambda: keras.optimizers.Adam(5e-4, beta_1=0.5)
    model.compile(g_optimizer=adam(), d_optimizer=adam(), **kgan.CUT.MODES["cut"])
    model.fit(train, steps_per_epoch=400, epochs=1, verbose=0)

    test, _ = bluemarble_tiles("test", 32)
    real_a = test.astype("float32") / 127.5 - 1.0
    truth = mapping(test).astype("float32") / 127.5 - 1.0
    fake_b = model.predict(real_a, batch_size=64, verbose=0)
    error = np.abs(fake_b - truth).mean()
    identity_error = np.abs(real_a - truth).mean()
    assert error < 0.5 * identity_error, (error, identity_error)
    correlation = [np.corrcoef(fake_b[..., c].ravel(), truth[..., c].ravel())[0, 1] for c in range(3)]
    assert min(correlation) > 0.8, correlation
