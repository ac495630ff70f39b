"""Unpaired data for CycleGAN: one image source per domain, and the pipeline zipping them.

An *image source* is a `tf.data.Dataset` of uint8 [H, W, 3] images with a known
cardinality. `unpaired_source` finds one for a named set or a folder: bluemarble (built
in, cut in memory), a `cycle_gan/<name>` set prepared through TFDS
(`kgan.data.tfds_cycle_gan`), or a folder of your own (`kgan.data.folders`, every file
checked with Pillow first). `prepare_unpaired` turns two of them into `(real_a, real_b)`
batches of float32 [N, S, S, 3] in [-1, 1].
"""

import math

import tensorflow as tf

from kgan.data import bluemarble, folders
from kgan.data.tfds_common import images, tfds_split
from kgan.data.tfds_cycle_gan import CYCLE_GAN_SETS, cycle_gan_builder
from kgan.data.transforms import random_jitter, resize, to_float
from kgan.errors import ConfigError

BUILT_IN = bluemarble.BUILT_IN
SPLITS = ("train", "test")


def cycle_gan_source(name, domain, split, tfds_dir=None, **kwargs):
    """uint8 [H, W, 3] images of one domain of `cycle_gan/<name>` (greyscale comes out RGB).

    Args:
        name: a TFDS cycle_gan config, e.g. "horse2zebra".
        domain: "A" or "B".
        split: "train" or "test".
        tfds_dir: TFDS data dir; the archive may be put in `<tfds_dir>/downloads/manual/`.
        **kwargs: `manual_dir`, `checksums_file`, as for `cycle_gan_builder`.

    Returns:
        Dataset of uint8 [H, W, 3] with a known cardinality.
    """
    folders.check_domain(domain)
    builder = cycle_gan_builder(name, tfds_dir, **kwargs)
    return images(builder, tfds_split(builder, f"{split}{domain}"))


def unpaired_source(dataset="bluemarble", domain="A", split="train", data_dir=None,
                    image_size=256, *, tfds_dir=None, on_bad_image="error"):
    """The images of one domain and split of a named set or a folder.

    Args:
        dataset: "bluemarble" (built in: A = satellite tiles, B = map tiles, cut in memory)
            or a TFDS `cycle_gan` set such as "horse2zebra" (downloaded once into
            `tfds_dir`).
        domain: "A" or "B".
        split: "train" or "test".
        data_dir: a folder with trainA/ trainB/ testA/ testB/ (JPEG or PNG, any size,
            greyscale becomes RGB); when given it is read instead of `dataset`.
        image_size: tile size for bluemarble (the tiles are cut at this size).
        tfds_dir: TFDS data dir for the downloadable sets.
        on_bad_image: for folders, "error" or "skip" unreadable files.

    Returns:
        Dataset of uint8 [H, W, 3] with a known cardinality. bluemarble's two domains
        list the same tiles in the same order: zipped unshuffled (as `prepare_unpaired`
        does for evaluation) they are the true pairs; shuffled independently (training)
        the pairing is lost.

    Raises:
        KganError: a missing or empty folder, a set that cannot be prepared.
        ConfigError: an unknown data set, domain or split.
    """
    folders.check_domain(domain)
    if split not in SPLITS:
        raise ConfigError(f"unpaired split must be train or test, got {split!r}")
    if data_dir is not None:
        return folders.unpaired_folder_source(data_dir, domain, split, on_bad_image)
    if dataset == "bluemarble":
        satellite, topography = bluemarble.bluemarble_tiles(split, image_size)
        return tf.data.Dataset.from_tensor_slices(satellite if domain == "A" else topography)
    if dataset in CYCLE_GAN_SETS:
        return cycle_gan_source(dataset, domain, split, tfds_dir)
    raise ConfigError(
        f"unknown unpaired dataset {dataset!r}: use bluemarble, a cycle_gan set "
        f"({', '.join(CYCLE_GAN_SETS[:3])}, ...), or --data-dir with trainA/ trainB/ testA/ testB/"
    )


def steps_per_epoch(source_a, source_b, batch_size):
    """Batches in one epoch: enough to show every image of the larger domain once."""
    longest = max(int(source_a.cardinality()), int(source_b.cardinality()))
    return max(math.ceil(longest / batch_size), 1)


def prepare_unpaired(source_a, source_b, image_size, batch_size, training=False, augment=True,
                     seed=0, shuffle_buffer=1000, start_batch=0):
    """Build the input pipeline of an unpaired task.

    Args:
        source_a, source_b: datasets of uint8 [H, W, 3] images of domains A and B.
        image_size: side of the square images produced.
        batch_size: images of each domain per batch.
        training: shuffle each domain independently and repeat both forever, so any
            number of steps can be drawn (`steps_per_epoch` covers the larger domain
            once); the last partial batch is dropped. Otherwise one ordered pass over
            the pairs `(a_i, b_i)` (as long as the shorter domain), last batch kept.
        augment: with `training`, the pix2pix jitter (resize by 286/256, random crop) and
            a random flip, drawn independently for every image; pass False when the model
            augments on the accelerator instead. Evaluation data is never augmented.
        seed: seeds the shuffles and the jitter; the same seed gives the same batches.
        shuffle_buffer: shuffle buffer size per domain (the whole domain when smaller).
        start_batch: with `training`, start at this batch of the seeded sequence (where a
            resumed run stopped), jitter included.

    Returns:
        `tf.data.Dataset` of `(real_a, real_b)`, float32 [N, image_size, image_size, 3]
        in [-1, 1].
    """

    def cached(source, offset):
        ds = source.map(lambda image: resize(image, image_size), num_parallel_calls=tf.data.AUTOTUNE)
        ds = ds.cache()
        if training:
            ds = ds.shuffle(shuffle_buffer, seed=seed + offset, reshuffle_each_iteration=True)
            ds = ds.repeat()
        return ds

    ds = tf.data.Dataset.zip(cached(source_a, 0), cached(source_b, 1))
    if training:
        # Skipped before batching and jitter, so the skip costs little more than reading.
        ds = ds.skip(start_batch * batch_size)
    ds = ds.batch(batch_size, drop_remainder=training, num_parallel_calls=tf.data.AUTOTUNE)
    ds = ds.map(lambda a, b: (to_float(a), to_float(b)), num_parallel_calls=tf.data.AUTOTUNE)
    if training and augment:
        def jitter(index, batch):
            seed_a, seed_b = tf.unstack(tf.random.experimental.stateless_split(
                tf.stack([tf.cast(seed, tf.int64), index]), 2))
            return random_jitter(batch[0], seed_a), random_jitter(batch[1], seed_b)

        # One seed per batch, from its index: reproducible and different per batch.
        ds = ds.enumerate(start=start_batch).map(jitter, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)
