"""Unpaired sources (bluemarble domains, trainA/... folders) and the unpaired pipeline."""


import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from kgan.data import bluemarble_tiles, prepare_unpaired, unpaired_source
from kgan.data.unpaired import steps_per_epoch
from kgan.errors import ConfigError, KganError



def images(values, size=8):
    """uint8 [len(values), size, size, 3] images, image i filled with values[i]."""
    return tf.data.Dataset.from_tensor_slices(
        np.stack([np.full((size, size, 3), v, np.uint8) for v in values])
    )


def test_bluemarble_domains_are_the_aligned_tiles():
    satellite, topography = bluemarble_tiles("test", 32)
    a = np.stack(list(unpaired_source("bluemarble", "A", "test", image_size=32).as_numpy_iterator()))
    b = np.stack(list(unpaired_source("bluemarble", "B", "test", image_size=32).as_numpy_iterator()))
    np.testing.assert_array_equal(a, satellite)
    np.testing.assert_array_equal(b, topography)


def test_evaluation_keeps_the_pairs_in_order():
    a, b = images([0, 10, 20]), images([1, 11, 21, 31])
    batches = list(prepare_unpaired(a, b, 8, batch_size=2).as_numpy_iterator())
    assert [x.shape for x, _ in batches] == [(2, 8, 8, 3), (1, 8, 8, 3)]  # shorter domain, kept
    real_a = np.concatenate([x for x, _ in batches])[:, 0, 0, 0]
    real_b = np.concatenate([y for _, y in batches])[:, 0, 0, 0]
    np.testing.assert_allclose((real_a + 1) * 127.5, [0, 10, 20], atol=1e-4)
    np.testing.assert_allclose((real_b + 1) * 127.5, [1, 11, 21], atol=1e-4)


def test_training_shuffles_domains_independently_and_covers_the_longer_one():
    a, b = images(range(0, 60, 10)), images(range(1, 100, 10))  # 6 and 10 images
    assert steps_per_epoch(a, b, 2) == 5
    ds = prepare_unpaired(a, b, 8, batch_size=2, training=True, augment=False, seed=3)
    batches = list(ds.take(5 * 3).as_numpy_iterator())
    to_value = lambda x: np.round((x[:, 0, 0, 0] + 1) * 127.5).astype(int)
    seen_a = np.concatenate([to_value(x) for x, _ in batches])
    seen_b = np.concatenate([to_value(y) for _, y in batches])
    assert all(x.shape == (2, 8, 8, 3) and x.dtype == np.float32 for x, _ in batches)
    # The first 10 B images of the stream are one full pass over B: an epoch covers it.
    assert sorted(seen_b[:10]) == list(range(1, 100, 10))
    assert set(seen_a) == set(range(0, 60, 10))
    # Independent shuffles: B's order is not a function of A's (pairs are not fixed).
    pairs = set(zip(seen_a, seen_b))
    assert len(pairs) > 10
    again = list(prepare_unpaired(a, b, 8, 2, training=True, augment=False, seed=3).take(15).as_numpy_iterator())
    np.testing.assert_array_equal(np.concatenate([x for x, _ in again]), np.concatenate([x for x, _ in batches]))


def test_training_augmentation_jitters_each_image_on_its_own():
    ramp = np.tile(np.arange(32, dtype=np.uint8)[None, :, None] * 8, (32, 1, 3))
    a = tf.data.Dataset.from_tensor_slices(np.stack([ramp] * 4))
    ds = prepare_unpaired(a, a, 32, batch_size=4, training=True, augment=True, seed=0)
    real_a, real_b = next(iter(ds))
    assert real_a.shape == (4, 32, 32, 3) and real_b.shape == (4, 32, 32, 3)
    assert -1.0 <= float(tf.reduce_min(real_a)) and float(tf.reduce_max(real_a)) <= 1.0
    # Same input everywhere, but the crops and flips differ between images and domains.
    crops = {tuple(np.asarray(x)[0, :, 0]) for x in tf.concat([real_a, real_b], 0)}
    assert len(crops) > 1


def test_resizes_any_input_size():
    ds = prepare_unpaired(images([5], size=20), images([6], size=40), 16, batch_size=1)
    real_a, real_b = next(iter(ds))
    assert real_a.shape == (1, 16, 16, 3) and real_b.shape == (1, 16, 16, 3)


def test_folder_errors_are_one_line(tmp_path):
    with pytest.raises(KganError, match="does not exist"):
        unpaired_source(domain="A", split="train", data_dir=str(tmp_path / "nothing"))
    (tmp_path / "trainA").mkdir()
    with pytest.raises(KganError, match="no trainB/ folder"):
        unpaired_source(domain="B", split="train", data_dir=str(tmp_path))
    with pytest.raises(KganError, match="holds no"):
        unpaired_source(domain="A", split="train", data_dir=str(tmp_path))
    with pytest.raises(ConfigError):
        unpaired_source(domain="C", data_dir=str(tmp_path))
    with pytest.raises(ConfigError, match="unknown unpaired dataset"):
        unpaired_source("nosuchset", "A")


def test_folder_source_decodes_grey_as_rgb(tmp_path):
    (tmp_path / "trainA").mkdir()
    Image.fromarray(np.full((12, 10), 200, np.uint8), "L").save(tmp_path / "trainA" / "1.png")
    Image.fromarray(np.full((12, 10, 3), 50, np.uint8)).save(tmp_path / "trainA" / "2.jpg")
    source = unpaired_source(domain="A", split="train", data_dir=str(tmp_path))
    assert int(source.cardinality()) == 2
    shapes = [x.shape for x in source.as_numpy_iterator()]
    assert shapes == [(12, 10, 3), (12, 10, 3)]


def test_real_horse2zebra_folder(horse2zebra_dir):
    a = unpaired_source(domain="A", split="test", data_dir=str(horse2zebra_dir))
    b = unpaired_source(domain="B", split="test", data_dir=str(horse2zebra_dir))
    assert (int(a.cardinality()), int(b.cardinality())) == (120, 140)
    real_a, real_b = next(iter(prepare_unpaired(a, b, 32, batch_size=3)))
    assert real_a.shape == (3, 32, 32, 3) and real_b.shape == (3, 32, 32, 3)
