"""One harness for the GAN models' shared checks (as keras-hub's `run_serialization_test` and
`run_model_saving_test`), and a user's own registered adversarial loss functions."""

import json
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from kgan import losses
from kgan.errors import KganError


# A user's adversarial loss, as the README tells users to write one: module-level functions,
# registered so that a saved model finds them again. (Softplus form of the BCE objective.)
@keras.saving.register_keras_serializable(package="kgan_tests")
def softplus_generator_loss(fake_logits):
    return tf.reduce_mean(tf.nn.softplus(-tf.cast(fake_logits, tf.float32)))


@keras.saving.register_keras_serializable(package="kgan_tests")
def softplus_discriminator_loss(real_logits, fake_logits):
    real, fake = tf.cast(real_logits, tf.float32), tf.cast(fake_logits, tf.float32)
    return 0.5 * tf.reduce_mean(tf.nn.softplus(-real)) + 0.5 * tf.reduce_mean(tf.nn.softplus(fake))


@pytest.fixture
def registered_adversarial_loss():
    """`AdversarialLoss` built from two registered functions."""
    return losses.AdversarialLoss(softplus_generator_loss, softplus_discriminator_loss)


class GANChecks:
    """The checks every GAN model's tests run, on a model the test file builds."""

    def __init__(self, folder):
        self.folder = folder

    def config_round_trip(self, model):
        """Serialize through JSON and back; return the clone (same class, same config)."""
        config = json.loads(json.dumps(keras.saving.serialize_keras_object(model)))
        clone = keras.saving.deserialize_keras_object(config)
        assert type(clone) is type(model)
        networks = model.GENERATOR_NETWORKS + model.DISCRIMINATOR_NETWORKS
        options = lambda m: {k: v for k, v in m.get_config().items() if k not in networks}
        assert options(clone) == options(model)
        for name in networks:  # layer names differ: Keras makes them unique
            assert getattr(clone, name).count_params() == getattr(model, name).count_params()
        return clone

    def save_and_load(self, model, inputs):
        """Save to .keras, load, check equal outputs on `inputs` and compile config; return it."""
        path = self.folder / f"{model.name}.keras"
        model.save(path)
        loaded = keras.models.load_model(path)
        np.testing.assert_allclose(loaded(inputs), model(inputs), atol=1e-6)
        assert loaded.compiled == model.compiled
        if model.compiled:
            assert json.dumps(loaded.get_compile_config()) == json.dumps(model.get_compile_config())
        return loaded

    def trains_on(self, model, data, keys):
        """One epoch of `fit`: every key in `keys` finite, every network's weights changed."""
        networks = model.GENERATOR_NETWORKS + model.DISCRIMINATOR_NETWORKS
        before = {name: getattr(model, name).get_weights() for name in networks}
        logs = model.fit(data, epochs=1, verbose=0).history
        assert set(keys) <= set(logs), (keys, sorted(logs))
        assert all(math.isfinite(logs[key][-1]) for key in keys), logs
        for name in networks:
            after = getattr(model, name).get_weights()
            assert any(not np.array_equal(a, b) for a, b in zip(before[name], after)), name
        return logs

    def refuses_to_save(self, model, match):
        """Saving raises a one-line KganError matching `match` and writes no file."""
        path = self.folder / "refused.keras"
        with pytest.raises(KganError, match=match) as error:
            model.save(path)
        message = str(error.value)
        assert "\n" not in message and "register_keras_serializable" in message
        assert not path.exists() and list(self.folder.iterdir()) == []
        return message


@pytest.fixture
def gan_checks(tmp_path):
    folder = tmp_path / "gan_checks"
    folder.mkdir()
    return GANChecks(folder)
