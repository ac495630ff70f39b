"""What tests/backends/test_jax_steps.py trains on each backend, shared by both sides.

Run as a script (`python step_values.py FOLDER`, with KERAS_BACKEND=jax), it builds the
models, loads the starting weights TensorFlow saved in FOLDER/start.npz, trains them on the
batches of FOLDER/batches.npz and writes their weights and logs to FOLDER/jax.npz.
"""

import sys

import keras
import numpy as np

import kgan
from kgan import networks

# Two optimizer steps, one per epoch, so that the second starts from the state Keras' JAX
# trainer wrote back into the variables. These tiny GANs are chaotic: on TensorFlow alone, a
# relative change of 1e-6 in the starting weights moves CycleGAN's weights by 4e-4 after two
# SGD steps and by 1e-2 after four, so more steps would compare round-off, not the steps.
EPOCHS, BATCH_SIZE = 2, 2


def build(name):
    """A small model of each kind, deterministic on both backends: dropout off (its masks
    are random draws, which differ between the backends), CycleGAN's pools larger than the
    images they receive (no random swaps), CUT's PatchNCE on every position of each layer
    (the loss does not depend on their random order)."""
    if name == "pix2pix":  # batch norm in G and D: its statistics are threaded through the step
        model = kgan.Pix2Pix(networks.unet_generator(image_size=32, base_filters=4, dropout=0.0),
                             networks.patch_discriminator(70, base_filters=4), seed=3)
        compile_arguments = {}
    elif name == "cyclegan":
        generator = lambda: networks.resnet_generator(image_size=32, n_blocks=2, base_filters=4)
        discriminator = lambda: networks.patch_discriminator(
            70, base_filters=4, conditional=False, norm="instance")
        model = kgan.CycleGAN(generator(), generator(), discriminator(), discriminator(),
                              pool_size=50, seed=3)
        compile_arguments = {}
    else:
        model = kgan.CUT(
            networks.resnet_generator(image_size=32, n_blocks=2, base_filters=4),
            networks.patch_discriminator(70, base_filters=4, conditional=False, norm="instance"),
            nce_layers=("in_pad", "down0_conv", "down1_conv", "block0_add", "block1_add"),
            head_units=16, seed=3)
        compile_arguments = {"num_patches": 32 * 32 * 2}
    # SGD: Adam divides each step by the gradient's magnitude, so that weights whose gradient
    # is float32 noise (a bias before instance norm) move by the whole learning rate in
    # either direction; SGD moves each weight in proportion to its gradient.
    model.compile(g_optimizer=keras.optimizers.SGD(1e-3), d_optimizer=keras.optimizers.SGD(1e-3),
                  **compile_arguments)
    return model


def networks_of(model):
    """The model's networks, CUT's projection heads included, in a fixed order."""
    names = model.GENERATOR_NETWORKS + model.DISCRIMINATOR_NETWORKS
    return [getattr(model, name) for name in names] + list(getattr(model, "projection_heads", []))


def weights(model):
    return [w for network in networks_of(model) for w in network.get_weights()]


def set_weights(model, values):
    for network in networks_of(model):
        count = len(network.weights)
        network.set_weights(values[:count])
        values = values[count:]


def train(model, batches):
    """Fit on the (A, B) batches in order; return {"logs": last epoch's logs, "w<i>": weights}."""
    history = model.fit(x=batches["a"], y=batches["b"], batch_size=BATCH_SIZE, epochs=EPOCHS,
                        shuffle=False, verbose=0)
    logs = [history.history[key][-1] for key in model.log_keys]
    return {"logs": np.array(logs), **{f"w{i}": w for i, w in enumerate(weights(model))}}


def main(folder):
    assert keras.backend.backend() == "jax"
    batches = dict(np.load(f"{folder}/batches.npz"))
    results = {}
    for name in ("pix2pix", "cyclegan", "cut"):
        model = build(name)
        start = np.load(f"{folder}/{name}_start.npz")
        set_weights(model, [start[f"w{i}"] for i in range(len(start.files))])
        results.update({f"{name} {key}": value for key, value in train(model, batches).items()})
    np.savez(f"{folder}/jax.npz", **results)


if __name__ == "__main__":
    main(sys.argv[1])
