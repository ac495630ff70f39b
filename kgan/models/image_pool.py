"""History of generated images that CycleGAN's discriminators are trained on.

Reference:
    Shrivastava et al., "Learning from Simulated and Unsupervised Images through
    Adversarial Training", CVPR 2017, section 2.3 (history of refined images).
    Zhu et al., "Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial
    Networks", ICCV 2017, section 4 (a buffer of the 50 previously generated images).
"""

import keras
from keras import ops

from kgan import seeds


@keras.saving.register_keras_serializable(package="kgan")
class ImagePool(keras.layers.Layer):
    """A buffer of up to `size` past images, swapped at random with new ones.

    `query(images, seed)` goes through the batch image by image, as the reference code
    does: while the pool is not full, each image is stored and returned unchanged; once
    full, with probability 1/2 the image replaces a uniformly chosen stored one and the
    stored one is returned, otherwise the image itself is returned.

    The buffer and the fill count are non-trainable variables, created on the first call
    (or by `build`) with that call's image shape, so the pool runs inside `tf.function`,
    under XLA (`jit_compile=True`) and in a JAX step, and is saved and restored with the
    model's weights. Randomness is stateless: the same seed and state give the same result.

    Under a `tf.distribute` strategy the variables are `on_read`: each replica keeps its
    own pool of the images it generated (per-replica state), and reading them outside
    the replicas (saving) gives the first replica's pool.

    Args:
        size: images kept; 0 disables the pool (`query` returns its input).
    """

    def __init__(self, size=50, **kwargs):
        # float32 whatever the global policy: under mixed_float16 Keras would otherwise read
        # the float32 store as float16 inside call() and mix the two in tf.where.
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        if int(size) < 0:
            raise ValueError(f"pool size must be >= 0, got {size}")
        self.size = int(size)
        self.images = None
        self.count = None

    def build(self, input_shape):
        if self.size == 0:
            return
        image_shape = tuple(input_shape[1:])
        if any(dim is None for dim in image_shape):
            raise ValueError(
                f"an image pool needs a fixed image shape, got {tuple(input_shape)}: resize "
                "the images to one size or build the model with it"
            )
        # add_weight() takes no `synchronization`; per-replica (on_read) state needs it.
        pool_variable = dict(
            trainable=False, synchronization="on_read", aggregation="only_first_replica",
        )
        self.images = keras.Variable(
            "zeros", shape=(self.size,) + image_shape, dtype="float32", name="images",
            **pool_variable,
        )
        self.count = keras.Variable(
            "zeros", shape=(), dtype="int32", name="count", **pool_variable,
        )

    def query(self, images, seed):
        """Return a batch of the same shape mixing `images` and previously stored ones.

        Args:
            images: float [N, H, W, C], the freshly generated images.
            seed: a seed tensor of shape [2] (see `kgan.seeds`).

        Returns:
            float32 [N, H, W, C]; the pool's state is updated as a side effect.
        """
        return self(images, seed=seed)

    def call(self, images, seed):
        images = ops.cast(images, "float32")
        if self.size == 0:
            return images
        n = ops.shape(images)[0]
        pair = seeds.split(seed, 2)
        swap = seeds.uniform([n], pair[0]) < 0.5
        random_slots = seeds.uniform([n], pair[1], minval=0, maxval=self.size, dtype="int32")

        def step(i, state):
            buffer, count, outputs = state
            image = images[i]
            filling = count < self.size
            slot = ops.where(filling, count, random_slots[i])
            stored = buffer[slot]
            swapped = ops.logical_and(ops.logical_not(filling), swap[i])
            keep_new = ops.logical_or(filling, swapped)
            buffer = ops.scatter_update(buffer, ops.reshape(slot, [1, 1]),
                                        ops.where(keep_new, image, stored)[None])
            outputs = ops.scatter_update(outputs, ops.reshape(i, [1, 1]),
                                         ops.where(swapped, stored, image)[None])
            return buffer, ops.minimum(count + 1, self.size), outputs

        buffer, count, outputs = ops.fori_loop(
            0, n, step, (self.images.value, self.count.value, ops.zeros_like(images)))
        self.images.assign(buffer)
        self.count.assign(count)
        return outputs

    def compute_output_shape(self, input_shape, seed_shape=None):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(size=self.size)
        return config
