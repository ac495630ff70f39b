"""Training under tf.distribute.MirroredStrategy equals single-device training.

Two logical CPU devices stand in for two GPUs. They must be configured before TensorFlow
initialises its devices, so each check runs in a fresh Python process. With per-sample
normalisation (instance norm), no dropout and no image pool, one step on a global batch
split over two replicas must give the same weights as one step on the whole batch on one
device: that holds only if the losses are scaled per replica and the gradients summed.
"""

import os
import subprocess
import sys
import textwrap

import pytest

SETUP = """
import numpy as np
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import keras
import kgan

def max_difference(a, b):
    return max(float(np.abs(x - y).max()) for x, y in zip(a, b))

def train_twice(build, data, networks):
    '''Train build() on one device and, from the same weights, on two replicas; print per
    network the largest weight difference between the two and the largest weight change.'''
    keras.utils.set_random_seed(0)
    single = build()
    with tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]).scope():
        mirrored = build()
    assert mirrored.distribute_strategy.num_replicas_in_sync == 2
    mirrored.set_weights(single.get_weights())
    start = {name: getattr(single, name).get_weights() for name in networks}
    logs = [m.fit(data, epochs=1, verbose=0, shuffle=False).history for m in (single, mirrored)]
    for name in networks:
        after = getattr(single, name).get_weights()
        print(name, max_difference(after, getattr(mirrored, name).get_weights()),
              max_difference(after, start[name]))
    print("g_loss", logs[0]["g_loss"][0], logs[1]["g_loss"][0])
"""

PIX2PIX = """
inputs = np.random.default_rng(0).uniform(-1, 1, (8, 32, 32, 3)).astype("float32")
data = tf.data.Dataset.from_tensor_slices((inputs, -inputs)).batch(4)

def build():
    model = kgan.Pix2Pix(kgan.unet_generator(32, base_filters=8, norm="instance", dropout=0.0),
                         kgan.patch_discriminator(16, base_filters=8, norm="instance"))
    model.compile(g_optimizer=keras.optimizers.SGD(0.01), d_optimizer=keras.optimizers.SGD(0.01))
    return model

train_twice(build, data, ["generator", "discriminator"])
"""

CYCLEGAN = """
rng = np.random.default_rng(0)
a = rng.uniform(-1, 1, (8, 32, 32, 3)).astype("float32")
b = rng.uniform(-1, 1, (8, 32, 32, 3)).astype("float32")
data = tf.data.Dataset.from_tensor_slices((a, b)).batch(4)

def build():
    g = lambda: kgan.resnet_generator(32, n_blocks=1, base_filters=8, norm="instance")
    d = lambda: kgan.patch_discriminator(16, conditional=False, base_filters=8, norm="instance")
    model = kgan.CycleGAN(g(), g(), d(), d(), pool_size=0)
    model.compile(g_optimizer=keras.optimizers.SGD(0.01), d_optimizer=keras.optimizers.SGD(0.01))
    return model

train_twice(build, data, ["generator_ab", "generator_ba", "discriminator_a", "discriminator_b"])
"""

# CUT mode (the identity term too). Both replicas draw the same patch positions as the
# single device (one seed), so each replica's PatchNCE is the mean over its half.
CUT = """
rng = np.random.default_rng(0)
a = rng.uniform(-1, 1, (8, 32, 32, 3)).astype("float32")
b = rng.uniform(-1, 1, (8, 32, 32, 3)).astype("float32")
data = tf.data.Dataset.from_tensor_slices((a, b)).batch(4)

def build():
    model = kgan.CUT(kgan.resnet_generator(32, n_blocks=1, base_filters=8, norm="instance"),
                     kgan.patch_discriminator(16, conditional=False, base_filters=8, norm="instance"),
                     nce_layers=("in_pad", "down0_conv", "down1_conv", "block0_add"),
                     head_units=16, seed=0)
    model.compile(g_optimizer=keras.optimizers.SGD(0.01), d_optimizer=keras.optimizers.SGD(0.01),
                  num_patches=32)
    return model

train_twice(build, data, ["generator", "discriminator"])
"""


def run(body):
    """Run SETUP + body in a fresh interpreter; return {name: [numbers]} of what it printed."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(SETUP + body)],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    values = {}
    for line in result.stdout.splitlines():
        name, *numbers = line.split()
        values[name] = [float(n) for n in numbers]
    return values


def check(values, networks):
    """Weights agree to float32 round-off, far below what training moved them: a loss term
    scaled wrongly for the replica count would differ by a sizable part of the change."""
    for name in networks:
        difference, change = values[name]
        assert change > 1e-4 and difference < 1e-3 * change, (name, difference, change)
    single, mirrored = values["g_loss"]
    assert mirrored == pytest.approx(single, rel=1e-4)


def test_pix2pix_on_two_replicas_equals_one_device():
    check(run(PIX2PIX), ["generator", "discriminator"])


def test_cyclegan_on_two_replicas_equals_one_device():
    check(run(CYCLEGAN), ["generator_ab", "generator_ba", "discriminator_a", "discriminator_b"])


def test_cut_on_two_replicas_equals_one_device():
    check(run(CUT), ["generator", "discriminator"])
