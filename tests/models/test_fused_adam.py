"""FusedAdam makes Keras Adam's updates in one kernel per variable."""

import keras
import numpy as np
import pytest

from kgan.models.fused_adam import FusedAdam
from kgan.schedules import ConstantThenLinearDecay


def adam_steps(optimizer, steps=5, amsgrad=False):
    """The variables after `steps` updates with fixed random gradients, then the optimizer's
    (step count, moments)."""
    rng = np.random.default_rng(0)
    variables = [keras.Variable(rng.normal(size=shape).astype("float32"))
                 for shape in [(3, 3, 4, 8), (8,), (17,)]]
    optimizer.build(variables)
    for _ in range(steps):
        grads = [rng.normal(size=v.shape).astype("float32") for v in variables]
        optimizer.apply(grads, variables)
    return [v.numpy() for v in [*variables, *optimizer.variables]]


@pytest.mark.parametrize("arguments", [
    dict(learning_rate=2e-4, beta_1=0.5),
    dict(learning_rate=ConstantThenLinearDecay(1e-2, 2, 3), beta_1=0.9, beta_2=0.99,
         epsilon=1e-3),
    dict(learning_rate=1e-3, amsgrad=True),
])
def test_fused_adam_equals_keras_adam(arguments):
    fused = adam_steps(FusedAdam(**arguments))
    reference = adam_steps(keras.optimizers.Adam(**arguments))
    assert len(fused) == len(reference) > 3 + 6
    for a, b in zip(fused, reference, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_fused_adam_round_trips_its_config():
    optimizer = FusedAdam(learning_rate=ConstantThenLinearDecay(1e-3, 10, 5), beta_1=0.5)
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(optimizer))
    assert type(restored) is FusedAdam
    assert restored.get_config() == optimizer.get_config()


def test_keras_adam_state_loads_into_fused_adam():
    # What a checkpoint of a run trained with Keras' Adam holds: the step and the moments.
    adam = keras.optimizers.Adam(learning_rate=1e-3)
    adam_steps(adam, steps=3)
    store = {}
    adam.save_own_variables(store)
    fused = FusedAdam(learning_rate=1e-3)
    fused.build([keras.Variable(np.zeros(v.shape, "float32"))
                 for v in adam._trainable_variables])
    fused.load_own_variables(store)
    for a, b in zip(fused.variables, adam.variables, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
