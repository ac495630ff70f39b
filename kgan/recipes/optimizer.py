"""The optimizers a recipe compiles its GAN with: Adam(`--lr`, `--beta1`) on the papers'
learning-rate schedule."""

from kgan.models.fused_adam import FusedAdam
from kgan.schedules import ConstantThenLinearDecay


def optimizer(options, steps_per_epoch):
    """Adam(`--lr`, `--beta1`) whose rate is held for `--epochs` - `--decay-epochs` epochs,
    then decays linearly to zero; one for each of a GAN's optimizers."""
    schedule = ConstantThenLinearDecay(
        options.lr, (options.epochs - options.decay_epochs) * steps_per_epoch,
        options.decay_epochs * steps_per_epoch,
    )
    return FusedAdam(schedule, beta_1=options.beta1)
