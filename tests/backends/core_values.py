"""What tests/backends/test_jax_core.py computes on each backend, shared by both sides.

Run as a script (`python core_values.py FOLDER`, with KERAS_BACKEND=jax), it builds the
networks listed in FOLDER/networks.json, loads the weights TensorFlow saved beside them, and
writes their outputs and the loss values for FOLDER/inputs.npz to FOLDER/jax.npz.
"""

import json
import sys

import keras
import numpy as np

from kgan import losses, networks


def loss_values(inputs):
    """{key: value} of every kgan loss on `inputs` (see test_jax_core.INPUTS)."""
    logits, images, targets = inputs["logits"], inputs["images"], inputs["targets"]
    values = {}
    for name in ("bce", "lsgan", "hinge"):
        loss = losses.get_adversarial(name)
        values[f"{name} generator"] = loss.generator_loss(logits)
        values[f"{name} discriminator"] = loss.discriminator_loss(logits, -logits)
    for name in ("l1", "l2", "l1+l2"):
        values[name] = losses.get_reconstruction(name)(images, targets)
    values["patch_nce"] = losses.patch_nce_loss(inputs["query"], inputs["key"])
    features = inputs["features"]
    positions = losses.patch_positions(features, 10, np.array([3, 4], "uint32"))
    values["patch_count"] = len(positions)
    values["patches"] = losses.gather_patches(features, np.arange(5))
    return {key: keras.ops.convert_to_numpy(value) for key, value in values.items()}


def network_outputs(network, inputs, count):
    """{training: output} of `network` on the first `count` of (images, targets)."""
    images = [inputs["images"], inputs["targets"]][:count]
    images = images if count > 1 else images[0]
    return {training: keras.ops.convert_to_numpy(call(network, images, training))
            for training in (False, True)}


def call(network, images, training):
    """`network(images, training=training)`; compiled whole under JAX, whose op-by-op
    dispatch would compile every layer's ops one at a time."""
    if keras.backend.backend() != "jax":
        return network(images, training=training)
    import jax

    def forward(trainable, non_trainable, images):
        return network.stateless_call(trainable, non_trainable, images, training=training)[0]

    return jax.jit(forward)([v.value for v in network.trainable_variables],
                            [v.value for v in network.non_trainable_variables], images)


def main(folder):
    assert keras.backend.backend() == "jax"
    inputs = dict(np.load(f"{folder}/inputs.npz"))
    results = loss_values(inputs)
    with open(f"{folder}/networks.json") as f:
        listed = json.load(f)
    for name, builder, kwargs, count in listed:
        network = getattr(networks, builder)(**kwargs)
        network.load_weights(f"{folder}/{name}.weights.h5")
        for training, output in network_outputs(network, inputs, count).items():
            results[f"{name} training={training}"] = output
    np.savez(f"{folder}/jax.npz", **results)


if __name__ == "__main__":
    main(sys.argv[1])
