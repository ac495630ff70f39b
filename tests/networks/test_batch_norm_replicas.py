"""Batch norm under a distribution strategy (issue 18): statistics over the global batch.

A run split over replicas must normalise as one process would on the same global batch;
with each replica's own statistics (Keras' default) a 2-worker run of the default pix2pix
(batch norm) ended 0.033 away from one process after 3 steps.
"""

import json
import subprocess
import sys

# Two logical CPUs and MirroredStrategy over them, as two workers' replicas would split the
# batch; a child process, since the logical devices must be set before TensorFlow starts.
SCRIPT = """
import json
import numpy as np
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import keras
from kgan.networks import unet_generator
keras.utils.set_random_seed(0)
generator = unet_generator(32, base_filters=8, dropout=0.0)
images = np.random.default_rng(0).uniform(-1, 1, (4, 32, 32, 3)).astype("float32")
alone = generator(images, training=True).numpy()
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
batches = strategy.experimental_distribute_dataset(tf.data.Dataset.from_tensors(images))
split = strategy.run(lambda x: generator(x, training=True), args=(next(iter(batches)),))
split = np.concatenate([t.numpy() for t in strategy.experimental_local_results(split)])
print(json.dumps(float(np.abs(split - alone).max())))
"""


def test_batch_norm_over_two_replicas_equals_one_process_on_the_global_batch():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    difference = json.loads(done.stdout.strip().splitlines()[-1])
    # float32 round-off of the all-reduced sums; per-replica statistics differ by ~0.1-1.
    assert difference < 1e-4
