"""Paired images in the pix2pix layout: `ROOT/{train,val,test}/*.jpg`, each A|B side by side.

This is how the published facades, maps, cityscapes, edges2shoes and night2day archives
are laid out: every file holds the A image in its left half and the B image in its right
half (facades: A = photo, B = label map, so labels -> photo is `--direction BtoA`).
"""

import os
import re

import tensorflow as tf

from kgan.errors import KganError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")


def _natural_key(name):
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def list_images(folder):
    """Image files (JPEG or PNG) directly in `folder`, in natural order (2.jpg before 10.jpg)."""
    names = [n for n in os.listdir(folder) if n.lower().endswith(IMAGE_EXTENSIONS)]
    return [os.path.join(folder, n) for n in sorted(names, key=_natural_key)]


def split_folder(root, split):
    """Path of `root/split`, with a KganError that names what is missing."""
    if not os.path.isdir(root):
        raise KganError(f"data dir {root} does not exist: pass a folder with train/ val/ test/ inside")
    folder = os.path.join(root, split)
    if not os.path.isdir(folder):
        present = sorted(n for n in os.listdir(root) if os.path.isdir(os.path.join(root, n)))
        raise KganError(
            f"data dir {root} has no {split}/ folder (found: {', '.join(present) or 'nothing'}); "
            "expected the pix2pix layout train/ val/ test/ of A|B images"
        )
    return folder


def has_split(root, split):
    """Whether `root/split` exists and holds at least one image."""
    folder = os.path.join(root, split)
    return os.path.isdir(folder) and bool(list_images(folder))


def decode_side_by_side(contents):
    """Decode one A|B image and cut it into its halves.

    Args:
        contents: scalar string tensor, the bytes of a JPEG or PNG (grey or RGBA allowed).

    Returns:
        `(a, b)`: uint8 [H, W // 2, 3] each; A is the left half.
    """
    image = tf.io.decode_image(contents, channels=3, expand_animations=False)
    half = tf.shape(image)[1] // 2
    return image[:, :half], image[:, half:2 * half]


def paired_folder_source(root, split):
    """A `tf.data.Dataset` of `(a, b)` uint8 [H, W/2, 3] pairs from `root/split`.

    The data set's cardinality is the number of files.

    Raises:
        KganError: the folder is missing or holds no JPEG/PNG images.
    """
    folder = split_folder(root, split)
    files = list_images(folder)
    if not files:
        raise KganError(f"{folder} holds no .jpg/.jpeg/.png images")
    files_ds = tf.data.Dataset.from_tensor_slices(files)
    return files_ds.map(
        lambda path: decode_side_by_side(tf.io.read_file(path)),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
