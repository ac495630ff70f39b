"""The backend-neutral core: networks and losses give the same numbers under JAX as under
TensorFlow, for the same weights and inputs.

The tests run under TensorFlow (the suite's backend); one subprocess with KERAS_BACKEND=jax
builds the same networks, loads the weights TensorFlow saved, and computes the same losses.
"""

import json

import keras
import numpy as np
import pytest

from backends.core_values import loss_values, network_outputs
from backends.jax_side import run_under_jax
from kgan import networks

# (name, builder, keyword arguments, number of inputs): each sampling layer and norm once
# (building a network is what takes JAX's time here: it compiles every initializer). Dropout
# off: its masks are random draws, which differ between the backends.
NETWORKS = [
    ("unet_resize_instance", "unet_generator",
     {"image_size": 32, "base_filters": 4, "upsample": "resize", "norm": "instance", "dropout": 0.0}, 1),
    ("unet_antialias", "unet_generator",
     {"image_size": 32, "base_filters": 4, "upsample": "antialias", "downsample": "antialias",
      "skip_connections": False, "dropout": 0.0}, 1),
    ("resnet", "resnet_generator", {"image_size": 32, "n_blocks": 2, "base_filters": 4}, 1),
    ("patch70", "patch_discriminator", {"receptive_field": 70, "base_filters": 4}, 2),
]


def normalised(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


@pytest.fixture(scope="module")
def both_backends(tmp_path_factory, missing):
    """{key: (TensorFlow's array, JAX's array)} for every network output and loss value."""
    folder = tmp_path_factory.mktemp("backends")
    rng = np.random.default_rng(0)
    inputs = {
        "images": rng.uniform(-1, 1, (2, 32, 32, 3)).astype("float32"),
        "targets": rng.uniform(-1, 1, (2, 32, 32, 3)).astype("float32"),
        "logits": rng.normal(0, 3, (2, 4, 4, 1)).astype("float32"),
        "query": normalised(rng.normal(size=(2, 16, 8))).astype("float32"),
        "key": normalised(rng.normal(size=(2, 16, 8))).astype("float32"),
        "features": rng.normal(size=(2, 4, 4, 6)).astype("float32"),
    }
    np.savez(folder / "inputs.npz", **inputs)
    (folder / "networks.json").write_text(json.dumps(NETWORKS))
    tensorflow = {}
    for name, builder, kwargs, count in NETWORKS:
        keras.utils.set_random_seed(1)
        network = getattr(networks, builder)(**kwargs)
        # Non-zero batch-norm statistics, so that inference mode is checked too.
        network.set_weights([w + rng.uniform(0.1, 0.5, w.shape).astype("float32")
                             for w in network.get_weights()])
        network.save_weights(folder / f"{name}.weights.h5")
        for training, output in network_outputs(network, inputs, count).items():
            tensorflow[f"{name} training={training}"] = output
    tensorflow.update(loss_values(inputs))

    jax = run_under_jax("core_values.py", folder, missing)
    assert set(jax) == set(tensorflow)
    return {key: (tensorflow[key], jax[key]) for key in tensorflow}


@pytest.mark.parametrize("name", [network[0] for network in NETWORKS])
@pytest.mark.parametrize("training", [False, True])
def test_networks_give_the_same_outputs_under_jax(both_backends, name, training):
    tensorflow, jax = both_backends[f"{name} training={training}"]
    assert tensorflow.shape == jax.shape
    np.testing.assert_allclose(jax, tensorflow, atol=2e-5, rtol=1e-4)


@pytest.mark.parametrize("key", ["bce generator", "bce discriminator", "lsgan generator",
                                 "lsgan discriminator", "hinge generator", "hinge discriminator",
                                 "l1", "l2", "l1+l2", "patch_nce", "patches"])
def test_losses_give_the_same_values_under_jax(both_backends, key):
    tensorflow, jax = both_backends[key]
    np.testing.assert_allclose(jax, tensorflow, rtol=1e-6, atol=1e-7)


def test_patch_positions_are_distinct_and_as_many_as_asked_under_both_backends(both_backends):
    tensorflow, jax = both_backends["patch_count"]
    assert tensorflow == jax == 10
