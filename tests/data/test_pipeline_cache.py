"""The pipelines' in-memory `cache()` after a partial read (issue 18).

TensorFlow warns "the calling iterator did not fully read the dataset being cached" when the
recipes take the first held-out examples for the sample grid, count the evaluation images,
or end an epoch before a full pass over the training data. The warning is not a defect: the
partly filled cache is discarded, and the next iterator reads the source again. These tests
pin that down, so that a cache which kept a partial pass (a truncated validation set, a
training set missing images) would fail here.
"""

import numpy as np
import tensorflow as tf

from kgan.data import prepare_pairs, prepare_unpaired

PAIRS = 10


def source():
    """PAIRS distinct (a, b) uint8 [8, 8, 3] pairs: pair i is filled with i and 100 + i."""
    a = np.stack([np.full((8, 8, 3), i, np.uint8) for i in range(PAIRS)])
    return tf.data.Dataset.from_tensor_slices((a, a + 100))


def inputs(batches):
    return np.concatenate([x.numpy() for x, _ in batches])


def test_a_partly_read_evaluation_cache_is_not_reused_truncated():
    val = prepare_pairs(source(), 32, batch_size=3)
    first = next(iter(val.unbatch().batch(2)))  # the sample grid's read: 2 of 10 pairs
    assert first[0].shape[0] == 2
    whole = inputs(val)
    assert len(whole) == PAIRS
    np.testing.assert_array_equal(whole, inputs(prepare_pairs(source(), 32, batch_size=3)))
    assert len(inputs(val)) == PAIRS  # a complete cache now serves the next pass


def test_a_partly_read_training_cache_still_shows_every_pair_each_pass():
    train = prepare_pairs(source(), 32, batch_size=2, training=True, seed=3)
    iterator = iter(train)
    next(iterator)  # an epoch ended after one batch: the cache holds 2 of 10 pairs
    del iterator
    # Two full passes from a new iterator (reshuffled: a second iterator of a seeded
    # pipeline draws other orders, which is why the recipes build a new pipeline to resume).
    again = inputs(train.take(2 * PAIRS // 2))
    # Each pass shows every pair once (the input's level is its index).
    levels = np.round((again[:, 0, 0, 0] + 1) * 127.5).astype(int)
    for one_pass in (levels[:PAIRS], levels[PAIRS:]):
        assert sorted(one_pass) == list(range(PAIRS))


def test_a_partly_read_unpaired_cache_is_not_reused_truncated():
    a, b = source().map(lambda x, y: x), source().map(lambda x, y: y)
    val = prepare_unpaired(a, b, 32, batch_size=4)
    next(iter(val.unbatch().take(1)))
    assert len(inputs(val)) == PAIRS
