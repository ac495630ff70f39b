"""One test harness that every kgan GAN passes as a whole, as keras-hub's `run_backbone_test`
does for its backbones: a model cannot opt out of a check.

`run_gan_model_test(case, folder)` checks, for the model a `GANCase` builds:
- its declarations: networks, log keys, the generators it exports, the curves it draws;
- the config round trip through JSON;
- one `fit` step: exactly its log keys, all finite, every network's weights changed;
- `.keras` save and reload, compiled: equal outputs and compile config, and it trains on;
- a loss that would not load back is refused at save, in one line, with no file written;
- each mixed precision policy: one step with finite losses and float32 outputs.
"""

import json
import math
import typing

import keras
import numpy as np
import pytest

from kgan import losses
from kgan.errors import KganError
from kgan.precision import PRECISIONS, precision_policy

# The panels of the report's loss figure (kgan.sweep.figures.LOSS_PANELS) a model may fill.
CURVE_PANELS = {"discriminator", "reconstruction", "adversarial", "total"}


def unregistered_loss(y_true, y_pred):
    """A loss function Keras cannot find when loading: no `register_keras_serializable`."""
    return keras.ops.mean(keras.ops.abs(y_true - y_pred) ** 3)


def unregistered_generator_loss(fake_logits):
    return keras.ops.mean((fake_logits - 1.0) ** 2)


def unregistered_discriminator_loss(real_logits, fake_logits):
    return keras.ops.mean((real_logits - 1.0) ** 2) + keras.ops.mean(fake_logits ** 2)


def unloadable(argument):
    """`(argument, value)`: an unregistered loss for a compile argument, which saving must
    refuse; an `AdversarialLoss` of two unregistered functions for `adversarial_loss`."""
    if argument == "adversarial_loss":
        return argument, losses.AdversarialLoss(unregistered_generator_loss,
                                                unregistered_discriminator_loss)
    return argument, unregistered_loss


class GANCase(typing.NamedTuple):
    """What the harness needs to know of one model.

    build: () -> a fresh, uncompiled model (its networks built, small).
    batches: () -> the `fit` data, a few batches of what `train_step` takes.
    inputs: a batch the model is called on (float32 [N, H, W, 3] in [-1, 1]).
    compile: `compile` arguments besides the optimizers (non-default values, so that the
        round trip shows they are kept).
    unloadable: `unloadable(argument)` of a compile argument that takes a loss: compiled
        with it, the model must refuse to save.
    log_keys: the keys `fit` reports (default: the class's LOG_KEYS).
    """

    build: typing.Callable
    batches: typing.Callable
    inputs: np.ndarray
    compile: dict
    unloadable: tuple
    log_keys: tuple = None


def run_gan_model_test(case, folder):
    """Run every check on `case` (see the module docstring); `folder` is an empty tmp dir."""
    model = case.build()
    log_keys = case.log_keys or model.LOG_KEYS
    check_declarations(model)
    check_config_round_trip(model, case.inputs)
    model.compile(**case.compile)
    check_trains(model, case.batches(), log_keys)
    loaded = check_save_and_load(model, case.inputs, folder)
    check_trains(loaded, case.batches(), log_keys)
    argument, value = case.unloadable
    refused = case.build()
    refused.compile(**{**case.compile, argument: value})
    check_refuses_to_save(refused, f"cannot save {argument}", folder)
    for precision in PRECISIONS[1:]:
        with precision_policy(precision):
            model = case.build()
            model.compile(**case.compile)
            check_trains(model, case.batches(), log_keys, changes_weights=False)
            assert keras.ops.convert_to_numpy(model(case.inputs)).dtype == np.float32, precision


def check_declarations(model):
    """The class attributes the base class, the run folder and the report read."""
    cls = type(model)
    networks = cls.GENERATOR_NETWORKS + cls.DISCRIMINATOR_NETWORKS
    assert cls.GENERATOR_NETWORKS and cls.DISCRIMINATOR_NETWORKS, cls
    assert all(isinstance(getattr(model, name), keras.Model) for name in networks)
    assert set(cls.VALIDATION_KEYS) <= set(cls.LOG_KEYS)
    assert cls.EXPORTS and set(cls.EXPORTS) <= set(cls.GENERATOR_NETWORKS), cls.EXPORTS
    suffixes = [suffix for suffix, _ in cls.EXPORTS.values()]
    assert suffixes[0] == "" and len(set(suffixes)) == len(suffixes), suffixes
    assert set(cls.CURVES) <= CURVE_PANELS and set(cls.CURVES.values()) <= set(cls.LOG_KEYS)


def check_config_round_trip(model, inputs=None):
    """Serialize through JSON and back: same class, options and network sizes; with the
    weights copied, the same outputs on `inputs` (if given). Returns the clone."""
    config = json.loads(json.dumps(keras.saving.serialize_keras_object(model)))
    clone = keras.saving.deserialize_keras_object(config)
    assert type(clone) is type(model)
    networks = model.GENERATOR_NETWORKS + model.DISCRIMINATOR_NETWORKS
    options = lambda m: {k: v for k, v in m.get_config().items() if k not in networks}
    assert options(clone) == options(model)
    for name in networks:  # layer names differ: Keras makes them unique
        assert getattr(clone, name).count_params() == getattr(model, name).count_params()
    if inputs is not None:
        for name in networks:
            getattr(clone, name).set_weights(getattr(model, name).get_weights())
        np.testing.assert_allclose(clone(inputs), model(inputs), atol=1e-6)
    return clone


def check_trains(model, batches, log_keys, steps_per_epoch=1, changes_weights=True):
    """`fit` for one epoch of `steps_per_epoch` (None: all) `batches`: exactly `log_keys`,
    finite; every network's weights changed. Returns the last logs."""
    networks = model.GENERATOR_NETWORKS + model.DISCRIMINATOR_NETWORKS
    before = {name: getattr(model, name).get_weights() for name in networks}
    history = model.fit(batches, epochs=1, steps_per_epoch=steps_per_epoch, verbose=0).history
    logs = {key: values[-1] for key, values in history.items()}
    assert set(logs) == set(log_keys), sorted(logs)
    assert all(math.isfinite(value) for value in logs.values()), logs
    if changes_weights:
        for name in networks:
            after = getattr(model, name).get_weights()
            assert any(not np.array_equal(a, b) for a, b in zip(before[name], after)), name
    return logs


def check_save_and_load(model, inputs, folder):
    """Save to .keras in `folder` and load: equal outputs on `inputs`, compiled as the model
    was, with the same compile config. Returns the loaded model."""
    path = folder / f"{model.name}.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded(inputs), model(inputs), atol=1e-6)
    assert loaded.compiled == model.compiled
    if model.compiled:
        assert json.dumps(loaded.get_compile_config()) == json.dumps(model.get_compile_config())
    return loaded


def check_refuses_to_save(model, match, folder):
    """Saving raises a one-line KganError matching `match` that names
    `register_keras_serializable`, and writes nothing into `folder`. Returns the message."""
    before = sorted(folder.iterdir())
    path = folder / "refused.keras"
    with pytest.raises(KganError, match=match) as error:
        model.save(path)
    message = str(error.value)
    assert "\n" not in message and "register_keras_serializable" in message
    assert sorted(folder.iterdir()) == before
    return message
