"""Paired sources and the training/evaluation pipelines."""

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from kgan.data import bluemarble, paired_source, prepare_pairs
from kgan.errors import ConfigError, KganError


def to_b(a):
    """B of a pair: A's channels rotated (B's red is A's green, ...).

    Not its own inverse (B -> A is the opposite rotation), so the two directions give
    different targets; and per-channel, so a resize, crop or flip of A and B together
    keeps the relation exactly.
    """
    return np.roll(a, -1, axis=-1)


def write_pairs(root, split, count, size=40):
    """Write `count` A|B PNGs of random A and B = to_b(A)."""
    folder = root / split
    folder.mkdir(parents=True)
    rng = np.random.RandomState(len(split))
    for i in range(count):
        a = rng.randint(0, 256, (size, size, 3)).astype(np.uint8)
        Image.fromarray(np.concatenate([a, to_b(a)], axis=1)).save(folder / f"{i + 1}.png")


def test_folder_source_splits_halves_and_direction(tmp_path):
    write_pairs(tmp_path, "train", 3)
    source = paired_source(data_dir=str(tmp_path), split="train")
    assert int(source.cardinality()) == 3
    inputs, targets = next(iter(prepare_pairs(source, 32, 3, direction="AtoB")))
    assert inputs.shape == targets.shape == (3, 32, 32, 3)
    np.testing.assert_array_equal(targets, to_b(inputs))
    inputs, targets = next(iter(prepare_pairs(source, 32, 3, direction="BtoA")))
    np.testing.assert_array_equal(inputs, to_b(targets))
    assert np.abs(targets - to_b(inputs)).max() > 1  # the rotation is no symmetry of the data


def test_direction_swaps_input_and_target(tmp_path):
    write_pairs(tmp_path, "train", 2)
    source = paired_source(data_dir=str(tmp_path), split="train")
    a_in, a_out = next(iter(prepare_pairs(source, 32, 2, direction="AtoB")))
    b_in, b_out = next(iter(prepare_pairs(source, 32, 2, direction="BtoA")))
    np.testing.assert_array_equal(a_in, b_out)
    np.testing.assert_array_equal(a_out, b_in)


@pytest.mark.parametrize("direction", ["AtoB", "BtoA"])
def test_training_pipeline_keeps_pairs_aligned_through_jitter(tmp_path, direction):
    write_pairs(tmp_path, "train", 4)
    source = paired_source(data_dir=str(tmp_path), split="train")
    train = prepare_pairs(source, 32, 2, direction=direction, training=True, seed=1)
    plain = np.concatenate([x for x, _ in prepare_pairs(source, 32, 4, direction=direction)])
    jittered = 0
    for inputs, targets in train.take(6):
        assert inputs.shape == (2, 32, 32, 3)
        a, b = (inputs, targets) if direction == "AtoB" else (targets, inputs)
        np.testing.assert_array_equal(b, to_b(a))  # the same crop and flip on both sides
        jittered += sum(not any(np.array_equal(x, p) for p in plain) for x in inputs.numpy())
    assert jittered > 0  # the jitter did move the images


def test_training_pipeline_is_reproducible_and_evaluation_is_not_augmented(tmp_path):
    write_pairs(tmp_path, "train", 4)
    source = paired_source(data_dir=str(tmp_path), split="train")
    first = [x.numpy() for x, _ in prepare_pairs(source, 32, 2, training=True, seed=3).take(3)]
    again = [x.numpy() for x, _ in prepare_pairs(source, 32, 2, training=True, seed=3).take(3)]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    plain = np.concatenate([x for x, _ in prepare_pairs(source, 32, 4, training=False)])
    eval_twice = np.concatenate([x for x, _ in prepare_pairs(source, 32, 4, training=False)])
    np.testing.assert_array_equal(plain, eval_twice)
    resized = np.stack([tf.image.resize(np.asarray(Image.open(tmp_path / "train" / f"{i}.png"))[:, :40],
                                        [32, 32], antialias=True).numpy() for i in range(1, 5)])
    np.testing.assert_allclose(plain, np.round(resized) / 127.5 - 1, atol=1e-5)


def test_missing_folders_and_bad_names_give_one_line_errors(tmp_path):
    with pytest.raises(KganError, match="does not exist"):
        paired_source(data_dir=str(tmp_path / "nope"))
    (tmp_path / "train").mkdir()
    with pytest.raises(KganError, match="holds no"):
        paired_source(data_dir=str(tmp_path), split="train")
    with pytest.raises(KganError, match="no test/ folder"):
        paired_source(data_dir=str(tmp_path), split="test")
    with pytest.raises(ConfigError, match="direction"):
        prepare_pairs(tf.data.Dataset.range(1), 32, 1, direction="up")


def test_val_falls_back_to_test_when_absent(tmp_path):
    write_pairs(tmp_path, "test", 2)
    assert int(paired_source(data_dir=str(tmp_path), split="val").cardinality()) == 2


def test_bluemarble_tiles_are_aligned_real_pairs_and_mostly_land():
    sat, topo = bluemarble.bluemarble_tiles("test", 64)
    assert sat.shape == topo.shape and sat.shape[1:] == (64, 64, 3) and len(sat) > 100
    assert sat.dtype == np.uint8 and sat.std() > 20 and topo.std() > 20
    _, _, land = bluemarble.load_world()
    corners = bluemarble.tile_corners("test", 64)
    fractions = [land[r:r + 64, c:c + 64].mean() for r, c in corners]
    assert min(fractions) >= 0.5


@pytest.mark.parametrize("size", [32, 64, 256])
def test_bluemarble_test_tiles_never_overlap_training_tiles(size):
    band = [bluemarble._column(lon) for lon in bluemarble.TEST_LONGITUDES]
    train = bluemarble.tile_corners("train", size)
    test = bluemarble.tile_corners("test", size)
    assert len(train) > 10 and len(test) > 1
    assert np.all((train[:, 1] + size <= band[0]) | (train[:, 1] >= band[1]))
    assert np.all((test[:, 1] >= band[0]) & (test[:, 1] + size <= band[1]))
    # test tiles do not overlap each other either
    assert len({(r // size, c // size) for r, c in test}) == len(test)


def test_a_training_pipeline_started_at_batch_k_is_the_tail_of_one_started_at_0():
    """What exact resume rests on: the seeded sequence of batches, jitter included, can start
    anywhere (a new pipeline per start: a second iterator of one pipeline reshuffles)."""
    from kgan.data.unpaired import prepare_unpaired

    rng = np.random.default_rng(0)
    a, b = (tf.data.Dataset.from_tensor_slices(rng.integers(0, 256, (n, 8, 8, 3), np.uint8))
            for n in (5, 7))
    pairs = tf.data.Dataset.zip(a, b.take(5))
    for make in (lambda start: prepare_pairs(pairs, 8, 2, training=True, seed=3,
                                             start_batch=start),
                 lambda start: prepare_unpaired(a, b, 8, 2, training=True, seed=3,
                                                start_batch=start)):
        first = [x.numpy() for x, _ in make(0).take(9)]
        tail = [x.numpy() for x, _ in make(4).take(5)]
        np.testing.assert_array_equal(np.stack(tail), np.stack(first[4:]))
