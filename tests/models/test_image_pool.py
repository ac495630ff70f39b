"""ImagePool: fills, then swaps about half of the images; graph, XLA and multi-replica use."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

from kgan.models import ImagePool


def batch(value, n=2):
    """n images of shape [2, 2, 1] filled with value, value + 1, ...; the tests use values
    from 1 on, so that 0, what an empty slot of the pool holds, is never a right answer."""
    return tf.reshape(tf.range(value, value + n, dtype=tf.float32), [n, 1, 1, 1]) * tf.ones([n, 2, 2, 1])


def values(images):
    return [float(v) for v in np.asarray(images)[:, 0, 0, 0]]


def test_returns_new_images_until_full_then_mixes_stored_and_new():
    pool = ImagePool(4)
    assert values(pool.query(batch(1), [0, 0])) == [1, 2]
    assert values(pool.query(batch(3), [0, 1])) == [3, 4]
    assert int(pool.count) == 4
    assert sorted(values(pool.images)) == [1, 2, 3, 4]

    returned_old = returned_new = 0
    for step in range(80):
        # One image per query, so that each swap is seen against the pool it came from.
        new = batch(100 + step, n=1)
        before = set(values(pool.images))
        out = values(pool.query(new, [1, step]))
        after = set(values(pool.images))
        for image, result in zip(values(new), out):
            if result == image:
                returned_new += 1
            else:
                # A swap: the returned image was stored, and the new one took its place.
                assert result in before and result not in after and image in after
                returned_old += 1
        assert len(after) == 4
    # 80 draws with p = 1/2: both kinds occur, in roughly equal numbers.
    assert 25 <= returned_old <= 55 and returned_old + returned_new == 80


def test_same_seed_same_result():
    pools = [ImagePool(2), ImagePool(2)]
    outs = [[values(p.query(batch(3 * k, 3), [7, k])) for k in range(5)] for p in pools]
    assert outs[0] == outs[1]


def test_size_zero_is_the_identity_and_has_no_state():
    pool = ImagePool(0)
    x = batch(5, 3)
    np.testing.assert_array_equal(pool.query(x, [0, 0]), x)
    assert pool.weights == []


@pytest.mark.parametrize("jit_compile", [False, True])
def test_works_inside_tf_function(jit_compile):
    pool = ImagePool(3)

    @tf.function(jit_compile=jit_compile)
    def query(images, seed):
        return pool.query(images, seed)

    seen = []
    for k in range(6):
        out = query(batch(2 * k + 1), tf.constant([0, k]))
        seen.append(values(out))
    assert seen[0] == [1, 2] and seen[1][0] == 3  # filling
    assert int(pool.count) == 3
    assert len(set(values(pool.images))) == 3 and 0 not in values(pool.images)
    # After filling every output is one of the new images or a previously stored one, never
    # the empty slots' 0.
    produced = {v for row in seen for v in row}
    assert produced <= set(range(1, 13))
    # The first call traces twice (variable creation), later calls reuse the graph.
    assert query.experimental_get_tracing_count() <= 2


def test_rejects_unknown_image_shape():
    pool = ImagePool(2)
    with pytest.raises(ValueError, match="fixed image shape"):
        pool.build((None, None, None, 3))


def test_per_replica_state_under_mirrored_strategy():
    """Two CPU replicas each keep their own pool (in a subprocess: the logical devices
    must be configured before TensorFlow starts)."""
    script = textwrap.dedent("""
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        from kgan.models import ImagePool
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        with strategy.scope():
            pool = ImagePool(2)
            pool.build((None, 2, 2, 1))

        # As Keras's fit does: a tf.function running an XLA-compiled step on each replica.
        @tf.function(jit_compile=True)
        def query(x, seed):
            return pool.query(x, seed)

        @tf.function
        def step(x, k):
            replica = tf.distribute.get_replica_context().replica_id_in_sync_group
            return query(x + 10.0 * tf.cast(replica, tf.float32), tf.stack([0, k]))

        for k in range(3):
            strategy.run(step, args=(tf.fill([1, 2, 2, 1], float(k + 1)), tf.constant(k)))
        # Values from 1 on: an empty slot (0) would not pass.
        stored = [sorted(v[:, 0, 0, 0].numpy().tolist()) for v in pool.images.value.values]
        assert all(1 <= x < 10 for x in stored[0]), stored
        assert all(x >= 11 for x in stored[1]), stored
        print("OK", stored)
    """)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "OK" in result.stdout
