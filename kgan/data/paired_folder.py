"""Paired images in the pix2pix layout: `ROOT/{train,val,test}/*.jpg`, each A|B side by side.

This is how the published facades, maps, cityscapes, edges2shoes and night2day archives
are laid out: every file holds the A image in its left half and the B image in its right
half (facades: A = photo, B = label map, so labels -> photo is `--direction BtoA`).
The folder layouts and the image checks live in `kgan.data.folders`; this module keeps
the names earlier code imports.
"""

import os

from kgan.data.folders import (
    IMAGE_EXTENSIONS, decode_side_by_side, has_paired_split, list_images, paired_folder_pairs,
)

__all__ = [
    "IMAGE_EXTENSIONS", "decode_side_by_side", "has_split", "list_images",
    "paired_folder_source",
]


def has_split(root, split):
    """Whether the paired folder `root` has images for `split`."""
    return os.path.isdir(root) and has_paired_split(root, split)


def paired_folder_source(root, split, on_bad_image="error"):
    """A `tf.data.Dataset` of `(a, b)` uint8 [H, W, 3] pairs from `root/split`.

    Accepts both paired layouts of `kgan.data.folders` (A|B side by side, or A/ and B/
    matched by name). Files are checked with Pillow first; the data set's cardinality is
    the number of usable pairs.

    Raises:
        KganError: the folder is missing, empty, or (on_bad_image="error") holds a bad file.
    """
    return paired_folder_pairs(root, split, on_bad_image)
