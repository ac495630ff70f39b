"""How the networks change resolution: strided or antialiased downsampling; transposed
convolution, resize-convolution or antialiased upsampling.

A transposed convolution of stride 2 computes every second output pixel from other weights
than its neighbours, so a network initialised at random (or trained briefly) covers its
outputs in a period-2 pattern, the checkerboard. Resizing first and convolving after
(Odena et al.) or upsampling with a fixed low-pass filter (Zhang; the CUT code's default)
gives every output pixel the same weights. A strided convolution keeps every second pixel of
a signal it has not low-passed, so it aliases; the antialiased alternative convolves at
stride 1, applies the activation, and only then blurs and subsamples.

References:
    Odena, Dumoulin and Olah, "Deconvolution and Checkerboard Artifacts", Distill 2016.
    Zhang, "Making Convolutional Networks Shift-Invariant Again", ICML 2019.
    Park et al., "Contrastive Learning for Unpaired Image-to-Image Translation", ECCV 2020
    (its networks.py: `Downsample`, `Upsample`, on by default in the generator and the
    PatchGAN).
"""

import keras
import numpy as np
from keras import ops

from kgan.errors import ConfigError
from kgan.networks.layers import conv_init

UPSAMPLING = ("transpose", "resize", "antialias")
DOWNSAMPLING = ("strided", "antialias")
# Binomial taps: the blur before subsampling and the interpolation filter of upsampling.
BLUR_TAPS = (1.0, 2.0, 1.0)
UPSAMPLE_TAPS = (1.0, 3.0, 3.0, 1.0)


def binomial_kernel(taps, gain=1.0):
    """The separable 2-D kernel `outer(taps, taps)` scaled to sum to `gain`.

    Returns:
        float32 numpy array [len(taps), len(taps)].
    """
    taps = np.asarray(taps, "float64")
    kernel = np.outer(taps, taps)
    return (kernel * gain / kernel.sum()).astype("float32")


def _depthwise(inputs, kernel, strides):
    """Filter each channel of [N, H, W, C] `inputs` alone with the 2-D `kernel` ("valid")."""
    channels = inputs.shape[-1]
    weights = np.tile(kernel[:, :, None, None], (1, 1, channels, 1))
    weights = ops.convert_to_tensor(weights, dtype=inputs.dtype)
    return ops.depthwise_conv(inputs, weights, strides=strides, padding="valid")


@keras.saving.register_keras_serializable(package="kgan")
class BlurDownsample2D(keras.layers.Layer):
    """Antialiased 2x downsampling (CUT's `Downsample`, filter size 3).

    Reflection-pads one pixel, filters with the fixed [1, 2, 1] x [1, 2, 1] / 16 binomial
    kernel and keeps every second row and column: a constant image stays the same constant,
    borders included. No weights.

    Input float [N, H, W, C] (H, W >= 2) -> [N, ceil(H / 2), ceil(W / 2), C], same dtype.
    """

    # Read by kgan.export's generator_stride, like a strided convolution's.
    strides = (2, 2)

    def call(self, inputs):
        padded = ops.pad(inputs, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="reflect")
        return _depthwise(padded, binomial_kernel(BLUR_TAPS), self.strides)

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        half = lambda size: None if size is None else (size + 1) // 2
        return (n, half(h), half(w), c)


@keras.saving.register_keras_serializable(package="kgan")
class BinomialUpsample2D(keras.layers.Layer):
    """Antialiased 2x upsampling (CUT's `Upsample`, filter size 4).

    Pads one pixel by repeating the edge (the CUT code's replication padding), inserts a zero
    after every row and column, filters with the fixed [1, 3, 3, 1] x [1, 3, 3, 1] / 16 kernel
    times 4 (each output pixel has a quarter of the non-zero inputs) and crops to twice the
    size. Each output pixel is 3/4 of its nearest input and 1/4 of the next one along each
    axis: bilinear interpolation at half-pixel centres, edges clamped. A constant image stays
    the same constant. No weights.

    Input float [N, H, W, C] -> [N, 2H, 2W, C], same dtype.
    """

    def call(self, inputs):
        x = ops.pad(inputs, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="symmetric")
        x = _insert_zeros(_insert_zeros(x, 1), 2)
        # depthwise_conv correlates; flipped, it convolves (the same for a symmetric kernel).
        kernel = np.ascontiguousarray(binomial_kernel(UPSAMPLE_TAPS, gain=4.0)[::-1, ::-1])
        x = _depthwise(x, kernel, 1)
        return x[:, :-1, :-1, :]

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        double = lambda size: None if size is None else 2 * size
        return (n, double(h), double(w), c)


def _insert_zeros(x, axis):
    """[N, H, W, C] -> twice as long along `axis` (1 or 2), a zero after every element."""
    x = ops.stack([x, ops.zeros_like(x)], axis=axis + 1)
    shape = list(ops.shape(x))
    merged = shape[:axis] + [shape[axis] * 2] + shape[axis + 2:]
    return ops.reshape(x, [-1] + merged[1:])


def check_sampling(upsample="transpose", downsample="strided"):
    """Raise ConfigError for an `upsample` not in UPSAMPLING or `downsample` not in DOWNSAMPLING."""
    for option, value, choices in (("upsample", upsample, UPSAMPLING),
                                   ("downsample", downsample, DOWNSAMPLING)):
        if value not in choices:
            raise ConfigError(f"unknown {option} {value!r}: use one of {', '.join(choices)}")


def downsampling_stride(downsample):
    """The stride of a downsampling convolution: 2, or 1 when a blur subsamples after it."""
    return 2 if downsample == "strided" else 1


def blur_downsample(downsample, name):
    """The layer that subsamples after a downsampling block's activation, or None (strided)."""
    return BlurDownsample2D(name=name) if downsample == "antialias" else None


def upsampling_conv(x, filters, kernel, upsample, label, use_bias=True):
    """Double the resolution of `x` and convolve it to `filters` channels.

    Args:
        x: a Keras tensor [N, H, W, C].
        filters: output channels.
        kernel: kernel size of the transposed convolution (`upsample="transpose"`); the
            convolution after a resize is 3x3, as in the CUT code.
        upsample: "transpose" (Conv2DTranspose, stride 2), "resize" (nearest-neighbour
            repeat, then a 3x3 convolution) or "antialias" (`BinomialUpsample2D`, then a 3x3
            convolution).
        label: the layers are named `<label>_upsample` and `<label>_conv`.
        use_bias: whether the convolution has a bias.

    Returns:
        Keras tensor [N, 2H, 2W, filters].
    """
    conv = dict(use_bias=use_bias, padding="same", kernel_initializer=conv_init(),
                name=f"{label}_conv")
    if upsample == "transpose":
        return keras.layers.Conv2DTranspose(filters, kernel, strides=2, **conv)(x)
    if upsample == "resize":
        # Nearest, not bilinear: bilinear at half-pixel centres is exactly "antialias".
        x = keras.layers.UpSampling2D(2, interpolation="nearest", name=f"{label}_upsample")(x)
    else:
        x = BinomialUpsample2D(name=f"{label}_upsample")(x)
    return keras.layers.Conv2D(filters, 3, **conv)(x)
