"""Stateless random draws from explicit seeds, on the TensorFlow and the JAX backend.

A training step draws its randomness (on-device jitter, image-pool swaps, PatchNCE
positions) from seeds that `GANModel.next_seeds` splits off one `keras.random.SeedGenerator`,
so that a step is a pure function of its inputs and a resumed run draws what an
uninterrupted one would. `keras.random` takes a seed generator or a Python int, not a seed
tensor, on TensorFlow; these functions take the seed tensor on both backends.

A seed is a tensor of shape [2]: int32 on TensorFlow, uint32 on JAX (the dtype of the
backend's `SeedGenerator`); `split` keeps the dtype.
"""

import keras


def _tensorflow():
    return keras.backend.backend() == "tensorflow"


def split(seed, count):
    """`count` independent seeds derived from `seed`: shape [count, 2], the seed's dtype."""
    if _tensorflow():
        import tensorflow as tf

        return tf.random.experimental.stateless_split(tf.cast(seed, tf.int32), count)
    import jax

    return jax.random.split(keras.ops.convert_to_tensor(seed, "uint32"), count)


def uniform(shape, seed, minval=0.0, maxval=1.0, dtype="float32"):
    """Uniform draws in [minval, maxval), a pure function of `seed`.

    Args:
        shape: the output's shape (ints, or scalar tensors under TensorFlow).
        seed: a seed tensor of shape [2].
        minval, maxval: the range; for an integer dtype, maxval is excluded.
        dtype: "float32" or "int32".
    """
    if _tensorflow():
        import tensorflow as tf

        return tf.random.stateless_uniform(
            shape, tf.cast(seed, tf.int32), minval=minval, maxval=maxval, dtype=dtype
        )
    import jax

    key = keras.ops.convert_to_tensor(seed, "uint32")
    if dtype == "int32":
        return jax.random.randint(key, shape, minval, maxval, dtype="int32")
    return jax.random.uniform(key, shape, dtype=dtype, minval=minval, maxval=maxval)
