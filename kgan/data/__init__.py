"""Data sources and the tf.data pipelines: decode, split pairs, jitter, flip, normalise.

Modules: `paired` and `unpaired` (sources and pipelines of each task), `folders` (users'
image folders), `bluemarble` (the built-in set), `tfds_pix2pix`, `tfds_cycle_gan` and
`tfds_bluemarble` (TFDS builders) over `tfds_common` (their shared plumbing), `transforms`.
"""

from kgan.data.bluemarble import bluemarble_tiles
from kgan.data.folders import decode_side_by_side
from kgan.data.paired import DIRECTIONS, paired_source, prepare_pairs
# Imported for its side effect too: registers `bluemarble/<size>` with TFDS.
from kgan.data.tfds_bluemarble import bluemarble_builder
from kgan.data.transforms import paired_jitter, random_jitter, resize, to_float, to_uint8
from kgan.data.unpaired import prepare_unpaired, unpaired_source

__all__ = [
    "DIRECTIONS", "bluemarble_builder", "bluemarble_tiles", "decode_side_by_side",
    "paired_jitter", "paired_source", "prepare_pairs", "prepare_unpaired", "random_jitter",
    "resize", "to_float", "to_uint8", "unpaired_source",
]
