"""Data sources and the tf.data pipeline: decode, split pairs, jitter, flip, normalise."""

from kgan.data.bluemarble import bluemarble_tiles
from kgan.data.image_pool import ImagePool
from kgan.data.paired_folder import decode_side_by_side, paired_folder_source
from kgan.data.pipeline import DIRECTIONS, prepare_pairs
from kgan.data.sources import paired_source
from kgan.data.transforms import paired_jitter, random_jitter, resize, to_float, to_uint8
from kgan.data.unpaired import prepare_unpaired, unpaired_source

__all__ = [
    "DIRECTIONS", "ImagePool", "bluemarble_tiles", "decode_side_by_side", "paired_folder_source",
    "paired_jitter", "paired_source", "prepare_pairs", "prepare_unpaired", "random_jitter",
    "resize", "to_float", "to_uint8", "unpaired_source",
]
