"""Helpers shared by test modules (importable: pyproject puts tests/ on pytest's pythonpath)."""

import csv
import glob
import signal
import time

import numpy as np
import tensorflow as tf
from PIL import Image


def read_history(run_dir):
    """The rows of RUN/history.csv as dicts of strings (column -> value), oldest first."""
    with open(f"{run_dir}/history.csv", newline="") as f:
        return list(csv.DictReader(f))


def run_recipe(module, argv, capsys):
    """`python -m` of a recipe module in-process: (exit status, what it printed on stderr)."""
    status = module.RECIPE.run_cli([str(arg) for arg in argv])
    return status, capsys.readouterr().err


def one_line(err):
    """The single `error: ...` line of `err`; fails on a traceback or several error lines."""
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert "Traceback" not in err and len(lines) == 1, err
    return lines[0]


def tiny_features(images):
    """A fast stand-in for the FID Inception: channel means and stds, a 2x2 area pool.

    Args:
        images: float32 [N, H, W, 3] in [-1, 1].

    Returns:
        float32 [N, 18].
    """
    images = tf.convert_to_tensor(images, tf.float32)
    pooled = tf.reshape(tf.image.resize(images, [2, 2], method="area"), [tf.shape(images)[0], -1])
    return tf.concat([tf.reduce_mean(images, [1, 2]), tf.math.reduce_std(images, [1, 2]), pooled], 1)


def unpaired_batches(n=4, height=32, width=32, batch_size=2):
    """(real_a, real_b) batches of seeded uniform images, float32 [B, H, W, 3] in [-1, 1]."""
    a = tf.random.stateless_uniform([n, height, width, 3], [1, 2], -1.0, 1.0)
    b = tf.random.stateless_uniform([n, height, width, 3], [3, 4], -1.0, 1.0)
    return tf.data.Dataset.from_tensor_slices((a, b)).batch(batch_size)


def save_image(path, size, mode="RGB", seed=0):
    """Save seeded uniform noise of `size` (width, height) as an image file in `mode`."""
    width, height = size
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    Image.fromarray(pixels).convert(mode).save(path)


def one_error_line(stderr):
    """The single `error: ...` line `stderr` must consist of (no traceback); returns it."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    return lines[0]


def default_sigint():
    """In the child before exec: Ctrl-C's default action. A shell without job control starts
    background commands (`cmd &`, as some CI runners do) with SIGINT ignored, and an ignored
    signal stays ignored across exec."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def wait_until_caught(process, signum, timeout=60):
    """Wait until `process` has installed a handler for `signum` (its /proc SigCgt mask), so
    that a signal sent next reaches kgan's handler, whatever else loads the machine."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        with open(f"/proc/{process.pid}/status") as status:
            caught = next(int(line.split()[1], 16) for line in status if line.startswith("SigCgt:"))
        if caught & (1 << (signum - 1)):
            return
        time.sleep(0.01)
    raise AssertionError(f"the child never caught signal {signum} (exit status {process.poll()})")


def read_events(log_dir):
    """(tag -> [(step, value)]) of the scalars, image tags, and plugin names of a log folder."""
    scalars, images, plugins = {}, set(), set()
    for path in glob.glob(f"{log_dir}/events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                plugin = value.metadata.plugin_data.plugin_name
                plugins.add(plugin)
                if plugin == "scalars":
                    scalars.setdefault(value.tag, []).append(
                        (event.step, float(tf.make_ndarray(value.tensor))))
                elif plugin == "images":
                    images.add(value.tag)
    return scalars, images, plugins
