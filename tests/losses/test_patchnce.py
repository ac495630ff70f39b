"""PatchNCE: values worked out by hand, negatives from the same image only, no gradient into
the keys, patch sampling, and a loss that falls as the output's features match the input's."""

import math

import numpy as np
import pytest
import tensorflow as tf

from kgan.losses import gather_patches, patch_nce_loss, patch_positions


def test_value_by_hand_with_negatives_from_the_same_image_only():
    """Two images of two patches, tau = 1. Per patch: -log(e^pos / (e^pos + e^neg)) =
    log(1 + e^(neg - pos)).

    Image 0, q = k = (e1, e2): pos 1, neg 0 for both patches -> log(1 + e^-1) = 0.313262.
    Image 1, q = (e1, e2), k = ((.6, .8), (.8, .6)): patch 0 pos q0.k0 = .6, neg q0.k1 = .8;
    patch 1 pos q1.k1 = .6, neg q1.k0 = .8 -> log(1 + e^0.2) = 0.798139 each.
    Negatives drawn from the other image too would add terms and change both.
    """
    query = tf.constant([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]])
    key = tf.constant([[[1.0, 0.0], [0.0, 1.0]], [[0.6, 0.8], [0.8, 0.6]]])
    expected = (2 * math.log(1 + math.exp(-1.0)) + 2 * math.log(1 + math.exp(0.2))) / 4
    assert expected == pytest.approx(0.5557005, abs=1e-6)
    assert float(patch_nce_loss(query, key, temperature=1.0)) == pytest.approx(expected, rel=1e-6)


def test_value_by_hand_with_three_patches_and_a_temperature():
    """One image, q = k = (e1, e2, -e1), tau = 0.5: every positive is 1 / 0.5 = 2.
    Patch 0: negatives e1.e2 = 0 and e1.(-e1) = -1 -> logits 0, -2: log(1 + e^-2 + e^-4).
    Patch 1: negatives 0 and 0 -> log(1 + 2 e^-2). Patch 2: as patch 0."""
    q = tf.constant([[[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]]])
    outer = math.log(1 + math.exp(-2) + math.exp(-4))
    middle = math.log(1 + 2 * math.exp(-2))
    expected = (2 * outer + middle) / 3
    assert expected == pytest.approx(0.175136, abs=1e-6)
    assert float(patch_nce_loss(q, q, temperature=0.5)) == pytest.approx(expected, rel=1e-6)


def test_float16_inputs_give_a_float32_loss_and_no_gradient_reaches_the_keys():
    rng = np.random.default_rng(0)
    query = tf.Variable(rng.normal(size=(2, 5, 4)).astype("float16"))
    key = tf.Variable(rng.normal(size=(2, 5, 4)).astype("float16"))
    with tf.GradientTape() as tape:
        loss = patch_nce_loss(query, key)
    query_grad, key_grad = tape.gradient(loss, [query, key])
    assert loss.dtype == tf.float32 and np.isfinite(float(loss))
    assert key_grad is None and np.abs(query_grad.numpy()).max() > 0


def test_patch_positions_are_distinct_shared_by_the_batch_and_capped_by_the_map():
    features = tf.reshape(tf.range(2 * 4 * 5 * 3, dtype=tf.float32), [2, 4, 5, 3])
    positions = patch_positions(features, 8, tf.constant([1, 2]))
    assert positions.shape == (8,) and len(set(positions.numpy())) == 8
    patches = gather_patches(features, positions)
    flat = features.numpy().reshape(2, 20, 3)
    np.testing.assert_array_equal(patches, flat[:, positions.numpy()])
    everything = patch_positions(features, 256, tf.constant([1, 2]))
    assert sorted(everything.numpy()) == list(range(20))
    assert not np.array_equal(patch_positions(features, 8, tf.constant([3, 4])), positions)


def normalised(x):
    return tf.math.l2_normalize(x, axis=-1)


def test_loss_falls_as_the_output_features_are_made_to_match_the_input_features():
    """Sampled patches of a random input feature map are the keys; the output's features
    start unrelated and descend the loss: it falls tenfold and every query ends nearest its
    own key. Features equal to the input's score far below unrelated ones."""
    rng = np.random.default_rng(0)
    source = tf.constant(rng.normal(size=(2, 6, 6, 16)).astype("float32"))
    unrelated = tf.constant(rng.normal(size=(2, 6, 6, 16)).astype("float32"))
    positions = patch_positions(source, 16, tf.constant([5, 6]))
    key = normalised(gather_patches(source, positions))
    query_of = lambda features: normalised(gather_patches(features, positions))

    matched = float(patch_nce_loss(query_of(source), key))
    random = float(patch_nce_loss(query_of(unrelated), key))
    assert matched < 0.1 * random, (matched, random)

    output = tf.Variable(unrelated)
    optimizer = tf.keras.optimizers.SGD(0.5)
    losses = []
    for _ in range(100):
        with tf.GradientTape() as tape:
            loss = patch_nce_loss(query_of(output), key)
        optimizer.apply_gradients([(tape.gradient(loss, output), output)])
        losses.append(float(loss))
    assert losses[-1] < 0.1 * losses[0], losses[::10]
    nearest_key = tf.argmax(tf.matmul(query_of(output), key, transpose_b=True), axis=-1)
    np.testing.assert_array_equal(nearest_key, np.tile(np.arange(16), (2, 1)))
