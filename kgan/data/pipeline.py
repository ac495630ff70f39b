"""From a source of uint8 image pairs to batches a model trains on.

A *paired source* is a `tf.data.Dataset` of `(a, b)` uint8 [H, W, 3] pairs with a known
cardinality (any H, W). `prepare_pairs` turns it into `(inputs, targets)` batches of
float32 [N, S, S, 3] in [-1, 1]: direction, resize, cache, shuffle/repeat, batch and, for
training, the pix2pix jitter and flip applied identically to both halves.
"""

import tensorflow as tf

from kgan.data.transforms import paired_jitter, resize, to_float
from kgan.errors import ConfigError

DIRECTIONS = ("AtoB", "BtoA")


def check_direction(direction):
    """Raise a ConfigError unless `direction` is "AtoB" or "BtoA"."""
    if direction not in DIRECTIONS:
        raise ConfigError(f"direction must be AtoB or BtoA, got {direction!r}")


def prepare_pairs(
    source,
    image_size,
    batch_size,
    direction="AtoB",
    training=False,
    augment=True,
    seed=0,
    shuffle_buffer=1000,
):
    """Build the input pipeline for a paired task.

    Args:
        source: `tf.data.Dataset` of `(a, b)` uint8 [H, W, 3] pairs.
        image_size: side of the square images produced.
        batch_size: pairs per batch.
        direction: "AtoB" (input a, target b) or "BtoA".
        training: shuffle, repeat forever and drop the last partial batch; otherwise one
            ordered pass with the last batch kept.
        augment: with `training`, apply the random jitter (resize by 286/256, random
            crop) and horizontal flip here; pass False when the model augments on the
            accelerator instead. Evaluation data is never augmented.
        seed: seeds the shuffle and the jitter; the same seed gives the same batches.
        shuffle_buffer: shuffle buffer size (the whole set when it is smaller).

    Returns:
        `tf.data.Dataset` of `(inputs, targets)`, float32 [N, image_size, image_size, 3]
        in [-1, 1].
    """
    check_direction(direction)

    def _resize_pair(a, b):
        a, b = resize(a, image_size), resize(b, image_size)
        return (a, b) if direction == "AtoB" else (b, a)

    ds = source.map(_resize_pair, num_parallel_calls=tf.data.AUTOTUNE).cache()
    if training:
        ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True).repeat()
    ds = ds.batch(batch_size, drop_remainder=training, num_parallel_calls=tf.data.AUTOTUNE)
    ds = ds.map(lambda x, y: (to_float(x), to_float(y)), num_parallel_calls=tf.data.AUTOTUNE)
    if training and augment:
        # One seed per batch, derived from its index: reproducible and different per batch.
        ds = ds.enumerate().map(
            lambda i, pair: paired_jitter(*pair, seed=tf.stack([tf.cast(seed, tf.int64), i])),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    return ds.prefetch(tf.data.AUTOTUNE)
