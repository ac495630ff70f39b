"""The GAN training and validation steps under Keras' JAX backend.

Keras' JAX trainer keeps every variable's value outside the model and calls
`train_step(state, data)` with them, under `jax.jit`; the step must return the new values.
Its built-in step differentiates one loss for one optimizer. A GAN step differentiates two
losses in turn, each for its own optimizer, and the second sees the first's update. This
module runs a `GANModel`'s hooks (`generate`, `discriminator_loss`, `generator_loss`) as pure
functions of the variables' values: each hook runs inside a `keras.StatelessScope` that maps
every variable to its current value, and what the hook assigns (batch-norm statistics, seed
generators, image pools) is read back as the new value.

The generator's outputs are computed once, as in the TensorFlow step: `jax.vjp` keeps the
generator's pullback, so that G's gradient is the loss's direct gradient w.r.t. G's
variables plus the pullback of its gradient w.r.t. those outputs.
"""

import jax
import keras

from kgan.errors import ConfigError
from kgan.models.training import stop_gradient


class _Values:
    """The current value of each of a model's variables, updated as the step goes.

    Args:
        groups: lists of variables, in the order of Keras' JAX trainer state.
        state: their values, one list per group.
    """

    def __init__(self, groups, state):
        self.groups = groups
        self.variables = [v for group in groups for v in group]
        self.values = {}
        for group, values in zip(groups, state):
            self.set(group, values)

    def get(self, variables):
        return [self.values[id(v)] for v in variables]

    def set(self, variables, values):
        self.values.update((id(v), value) for v, value in zip(variables, values))

    def state(self):
        """The four lists of values in the order of Keras' JAX trainer state."""
        return tuple(self.get(group) for group in self.groups)

    def run(self, function, overrides=(), reads_back=None):
        """`function()` with every variable reading its value (or `overrides`' value: pairs of
        (variables, values)); returns (its result, the values it left in `reads_back`,
        default the non-trainable variables: the second group)."""
        values = dict(self.values)
        for variables, new in overrides:
            values.update((id(v), value) for v, value in zip(variables, new))
        reads_back = self.groups[1] if reads_back is None else reads_back
        with keras.StatelessScope(state_mapping=[(v, values[id(v)]) for v in self.variables]) as scope:
            result = function()
        return result, [scope.get_current_value(v) for v in reads_back]


def train_step(model, state, data):
    """One D update and one G update of `model` (a `GANModel`) on the batch `data`.

    Args:
        model: the model whose hooks define the losses.
        state: (trainable, non-trainable, optimizer, metrics) values, as Keras' JAX trainer
            passes them; optimizer values are `model.optimizer` (an `OptimizerPair`)'s.
        data: the batch, as the dataset yields it.

    Returns:
        (logs, new state): the running means of `model.log_keys`, and the new values.
    """
    if model.augment_on_device:
        raise ConfigError("augment_on_device jitters with TensorFlow ops: under JAX, jitter in "
                          "the input pipeline (augment_on_device=False)")
    # NumPy arrays when the step runs uncompiled (jit_compile=False).
    data = keras.tree.map_structure(keras.ops.convert_to_tensor, data)
    values = _Values((model.trainable_variables, model.non_trainable_variables,
                      model.optimizer.variables, model.metrics_variables), state)
    non_trainable = model.non_trainable_variables
    step_seeds = None
    if model.STEP_SEEDS:
        step_seeds, seed_state = values.run(lambda: model.next_seeds(model.STEP_SEEDS))
        values.set(non_trainable, seed_state)
    batch = data
    g_variables = model.generator_variables

    def generate(g_values):
        return values.run(lambda: model.generate(batch, step_seeds), [(g_variables, g_values)])

    fakes, pullback, generate_state = jax.vjp(generate, values.get(g_variables), has_aux=True)
    values.set(non_trainable, generate_state)

    d_logs = {}
    if model.DISCRIMINATOR_FIRST:
        d_logs = _discriminator_step(model, values, batch, fakes, step_seeds)

    def g_loss(g_values, fakes):
        def losses():
            loss, logs = model.generator_loss(batch, fakes, step_seeds)
            return model.g_optimizer.scale_loss(loss), logs

        (scaled, logs), new_state = values.run(losses, [(g_variables, g_values)])
        return scaled, (logs, new_state)

    g_values = values.get(g_variables)
    (_, (g_logs, new_state)), (direct, through_fakes) = jax.value_and_grad(
        g_loss, argnums=(0, 1), has_aux=True)(g_values, fakes)
    (through_generate,) = pullback(through_fakes)
    grads = jax.tree.map(lambda a, b: a + b, direct, through_generate)
    values.set(non_trainable, new_state)
    _apply(model.g_optimizer, values, grads, g_variables)

    if not model.DISCRIMINATOR_FIRST:
        d_logs = _discriminator_step(model, values, batch, fakes, step_seeds)
    step_logs = {**d_logs, **g_logs}
    return _logs(model, values, lambda: step_logs, model.log_keys)


def _discriminator_step(model, values, batch, fakes, step_seeds):
    """Update D's variables in `values` on `discriminator_loss`; return its logs."""
    d_variables = model.discriminator_variables
    fakes = stop_gradient(fakes)

    def d_loss(d_values):
        def losses():
            loss, logs = model.discriminator_loss(batch, fakes, step_seeds)
            return model.d_optimizer.scale_loss(loss), logs

        (scaled, logs), new_state = values.run(losses, [(d_variables, d_values)])
        return scaled, (logs, new_state)

    (_, (logs, new_state)), grads = jax.value_and_grad(d_loss, has_aux=True)(values.get(d_variables))
    values.set(model.non_trainable_variables, new_state)
    _apply(model.d_optimizer, values, grads, d_variables)
    return logs


def _apply(optimizer, values, grads, variables):
    """One optimizer step on `variables`' values in `values` (and on its own state's)."""
    new_values, new_state = optimizer.stateless_apply(
        values.get(optimizer.variables), grads, values.get(variables))
    values.set(variables, new_values)
    values.set(optimizer.variables, new_state)


def _logs(model, values, step_logs, keys):
    """Add `step_logs()` to the trackers' values; return (their means for `keys`, the new
    state). `step_logs` runs with the variables' values (in inference mode, validation)."""
    def update():
        model.update_logs(**step_logs())
        return model.logs(keys)

    logs, metrics = values.run(update, reads_back=model.metrics_variables)
    values.set(model.metrics_variables, metrics)
    return logs, values.state()


def test_step(model, state, data):
    """`model.validation_logs` on the batch `data` into the trackers.

    Args:
        state: (trainable, non-trainable, metrics) values, as Keras' JAX trainer passes them.

    Returns:
        (logs, new state): the running means of VALIDATION_KEYS and the new values.
    """
    data = keras.tree.map_structure(keras.ops.convert_to_tensor, data)
    values = _Values((model.trainable_variables, model.non_trainable_variables,
                      model.metrics_variables), state)
    return _logs(model, values, lambda: model.validation_logs(data), model.VALIDATION_KEYS)
