"""Plain TensorFlow image transforms for paired (and single) image batches.

All ops are stateless and take an explicit seed (int tensor of shape [2]), so the
same function runs inside a `tf.data` map or on the accelerator at the start of a
`train_step`, under XLA, and gives the same result for the same seed.
"""

import tensorflow as tf

# pix2pix's jitter: resize 256 -> 286, then crop back to 256.
JITTER_SCALE = 286 / 256


def to_float(images):
    """uint8 images in [0, 255] -> float32 in [-1, 1]; same shape."""
    return tf.cast(images, tf.float32) / 127.5 - 1.0


def to_uint8(images):
    """float images in [-1, 1] -> uint8 in [0, 255] (clipped, rounded); same shape."""
    images = tf.clip_by_value((tf.cast(images, tf.float32) + 1.0) * 127.5, 0.0, 255.0)
    return tf.cast(tf.round(images), tf.uint8)


def resize(images, image_size):
    """Resize uint8 [..., H, W, C] images to `image_size` x `image_size`, keeping uint8.

    Bilinear with antialiasing, so shrinking averages like an area filter; a resize to
    the image's own size leaves it unchanged.
    """
    out = tf.image.resize(images, [image_size, image_size], method="bilinear", antialias=True)
    return tf.cast(tf.round(tf.clip_by_value(out, 0.0, 255.0)), tf.uint8)


def random_jitter(images, seed, scale=JITTER_SCALE, flip=True):
    """pix2pix random jitter on a batch: nearest-neighbour upscale, random crop, flip.

    Each image of the batch gets its own crop offset and flip. To move two images of a
    pair identically, concatenate them on the channel axis first (see `paired_jitter`).

    Args:
        images: float [N, H, W, C] batch.
        seed: int32/int64 tensor of shape [2].
        scale: resize factor before cropping back to H x W (286/256 in the paper);
            1 disables the crop.
        flip: random horizontal flip with probability 1/2.

    Returns:
        Tensor of the same shape and dtype as `images`.
    """
    images = tf.convert_to_tensor(images)
    shape = tf.shape(images)
    n, h, w = shape[0], shape[1], shape[2]
    crop_seed, flip_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    out = images
    if scale != 1:
        load_h = tf.cast(tf.round(tf.cast(h, tf.float32) * scale), tf.int32)
        load_w = tf.cast(tf.round(tf.cast(w, tf.float32) * scale), tf.int32)
        out = tf.image.resize(out, tf.stack([load_h, load_w]), method="nearest")
        offsets = tf.random.stateless_uniform(
            [2, n], crop_seed, minval=0, maxval=tf.int32.max, dtype=tf.int32
        )
        top = offsets[0] % (load_h - h + 1)
        left = offsets[1] % (load_w - w + 1)
        rows = top[:, None] + tf.range(h)[None, :]
        cols = left[:, None] + tf.range(w)[None, :]
        out = tf.gather(out, rows, axis=1, batch_dims=1)
        out = tf.gather(out, cols, axis=2, batch_dims=1)
    if flip:
        do_flip = tf.random.stateless_uniform([n], flip_seed) < 0.5
        out = tf.where(do_flip[:, None, None, None], tf.reverse(out, axis=[2]), out)
    return tf.ensure_shape(tf.cast(out, images.dtype), images.shape)


def paired_jitter(inputs, targets, seed, scale=JITTER_SCALE, flip=True):
    """Apply one random jitter and flip to both halves of each pair.

    Args:
        inputs: float [N, H, W, C1] batch.
        targets: float [N, H, W, C2] batch, aligned with `inputs`.
        seed: int tensor of shape [2].
        scale, flip: as in `random_jitter`.

    Returns:
        `(inputs, targets)` with the same shapes, cropped and flipped identically.
    """
    channels = tf.shape(inputs)[-1]
    pair = random_jitter(tf.concat([inputs, targets], axis=-1), seed, scale, flip)
    return (
        tf.ensure_shape(pair[..., :channels], inputs.shape),
        tf.ensure_shape(pair[..., channels:], targets.shape),
    )
