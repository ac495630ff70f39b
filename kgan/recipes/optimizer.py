"""The optimizers a recipe compiles its GAN with: Adam(`--lr`, `--beta1`) on the papers'
learning-rate schedule."""

import keras

from kgan.models.training import on_tensorflow
from kgan.schedules import ConstantThenLinearDecay


def optimizer(options, steps_per_epoch):
    """Adam(`--lr`, `--beta1`) whose rate is held for `--epochs` - `--decay-epochs` epochs,
    then decays linearly to zero; one for each of a GAN's optimizers (`FusedAdam` on
    TensorFlow, Keras' Adam on JAX)."""
    schedule = ConstantThenLinearDecay(
        options.lr, (options.epochs - options.decay_epochs) * steps_per_epoch,
        options.decay_epochs * steps_per_epoch,
    )
    if not on_tensorflow():
        return keras.optimizers.Adam(schedule, beta_1=options.beta1)
    from kgan.models.fused_adam import FusedAdam

    return FusedAdam(schedule, beta_1=options.beta1)
