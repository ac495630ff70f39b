"""Look up a paired source by data-set name or folder."""

import tensorflow as tf

from kgan.data import bluemarble, paired_folder
from kgan.errors import ConfigError, KganError

BUILT_IN = ("bluemarble",)
# Downloadable sets the pix2pix authors publish; their download arrives with the TFDS builders.
DOWNLOADABLE = ("facades", "maps", "cityscapes")


def paired_source(dataset="bluemarble", split="train", data_dir=None, image_size=256):
    """A `tf.data.Dataset` of `(a, b)` uint8 pairs for a named set or a folder.

    Args:
        dataset: "bluemarble" (built in) or the name of a published set.
        split: "train", "val" or "test". bluemarble has no val split: "val" gives its test
            tiles; a folder without val/ uses test/ for "val".
        data_dir: a folder in the pix2pix layout (`train/ val/ test/`, A|B images); when
            given it is read instead of the named set.
        image_size: tile size for bluemarble (the tiles are cut at this size).

    Returns:
        Dataset of `(a, b)` uint8 [H, W, 3] with a known cardinality.
    """
    if data_dir is not None:
        if split == "val" and not paired_folder.has_split(data_dir, "val"):
            split = "test"
        return paired_folder.paired_folder_source(data_dir, split)
    if dataset == "bluemarble":
        a, b = bluemarble.bluemarble_tiles("test" if split == "val" else split, image_size)
        return tf.data.Dataset.from_tensor_slices((a, b))
    if dataset in DOWNLOADABLE:
        raise KganError(
            f"--dataset {dataset} is not downloaded by this version of kgan: unpack the "
            f"published {dataset}.tar.gz and pass its folder with --data-dir"
        )
    raise ConfigError(
        f"unknown dataset {dataset!r}: use bluemarble, or --data-dir with a folder of your own"
    )
