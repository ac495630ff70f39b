"""Equal steps on both backends: Pix2Pix, CycleGAN and CUT, given the same starting weights
and batches, end a few optimizer steps with the same weights under JAX as under TensorFlow.

The tests run under TensorFlow (the suite's backend); one subprocess with KERAS_BACKEND=jax
builds the same models, loads TensorFlow's starting weights and trains on the same batches
(see step_values.py for what keeps both sides deterministic).
"""

import keras
import numpy as np
import pytest

from backends.jax_side import run_under_jax
from backends.step_values import build, train, weights
MODELS = ("pix2pix", "cyclegan", "cut")


@pytest.fixture(scope="module")
def both_backends(tmp_path_factory, missing):
    """{model: (TensorFlow's results, JAX's results, starting weights)}."""
    folder = tmp_path_factory.mktemp("steps")
    rng = np.random.default_rng(0)
    batches = {side: rng.uniform(-1, 1, (2, 32, 32, 3)).astype("float32") for side in "ab"}
    np.savez(folder / "batches.npz", **batches)
    tensorflow, starts = {}, {}
    for name in MODELS:
        keras.utils.set_random_seed(1)
        model = build(name)
        starts[name] = weights(model)
        np.savez(folder / f"{name}_start.npz", **{f"w{i}": w for i, w in enumerate(starts[name])})
        tensorflow[name] = train(model, batches)

    jax = run_under_jax("step_values.py", folder, missing)
    return {name: (tensorflow[name], {key: jax[f"{name} {key}"] for key in tensorflow[name]},
                   starts[name]) for name in MODELS}


@pytest.mark.parametrize("name", MODELS)
def test_training_steps_give_the_same_weights_under_jax(both_backends, name):
    tensorflow, jax, start = both_backends[name]
    moved = max(np.abs(tensorflow[f"w{i}"] - w).max() for i, w in enumerate(start))
    assert moved > 1e-3  # the steps moved the weights
    for i in range(len(start)):
        # float32 round-off of two steps.
        np.testing.assert_allclose(jax[f"w{i}"], tensorflow[f"w{i}"], atol=1e-6, rtol=1e-5,
                                   err_msg=f"{name} weight {i}")


@pytest.mark.parametrize("name", MODELS)
def test_training_steps_log_the_same_losses_under_jax(both_backends, name):
    tensorflow, jax, _ = both_backends[name]
    np.testing.assert_allclose(jax["logs"], tensorflow["logs"], rtol=1e-5)
