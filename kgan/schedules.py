"""Learning-rate schedules of the pix2pix/CycleGAN papers."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="kgan")
class ConstantThenLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Hold `learning_rate` for `constant_steps`, then decay linearly to zero over `decay_steps`.

    With steps = epochs x steps per epoch this is the papers' "100 epochs at 2e-4, then
    100 epochs of linear decay to zero".

    Args:
        learning_rate: float, the initial rate.
        constant_steps: int >= 0, optimizer steps at the initial rate.
        decay_steps: int >= 0, optimizer steps of linear decay (0: no decay).
    """

    def __init__(self, learning_rate, constant_steps, decay_steps):
        self.learning_rate = float(learning_rate)
        self.constant_steps = int(constant_steps)
        self.decay_steps = int(decay_steps)

    def __call__(self, step):
        step = ops.cast(step, "float32")
        if self.decay_steps == 0:
            return ops.full((), self.learning_rate, dtype="float32")
        # Step k of the decay (1-based) trains at lr * (1 - k / (decay_steps + 1)), so the
        # last step still moves and the rate would reach zero one step after the end.
        progress = ops.maximum(step - self.constant_steps + 1.0, 0.0) / (self.decay_steps + 1.0)
        return self.learning_rate * ops.maximum(1.0 - progress, 0.0)

    def get_config(self):
        return {
            "learning_rate": self.learning_rate,
            "constant_steps": self.constant_steps,
            "decay_steps": self.decay_steps,
        }
