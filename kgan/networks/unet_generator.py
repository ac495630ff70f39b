"""U-Net generator of pix2pix.

Reference:
    Isola et al., "Image-to-Image Translation with Conditional Adversarial Networks",
    CVPR 2017, appendix 6.1.1 (encoder C64-C128-C256-C512-..., decoder CD512-...).
"""

import math

import keras

from kgan.errors import ConfigError
from kgan.networks.layers import MIN_IMAGE_SIZE, apply, conv_init, normalization
from kgan.networks.resampling import (
    blur_downsample, check_sampling, downsampling_stride, upsampling_conv,
)


def unet_depth(image_size):
    """Number of stride-2 stages that take `image_size` down to 1x1 (log2 of the size)."""
    depth = int(round(math.log2(image_size))) if image_size > 0 else 0
    if image_size < MIN_IMAGE_SIZE or 2**depth != image_size:
        raise ConfigError(
            f"image size {image_size} is not supported by the U-Net: use a power of two "
            f"from {MIN_IMAGE_SIZE} up (32, 64, 128, 256, 512)"
        )
    return depth


def unet_generator(
    image_size=256,
    base_filters=64,
    skip_connections=True,
    norm="batch",
    dropout=0.5,
    input_channels=3,
    output_channels=3,
    upsample="transpose",
    downsample="strided",
    name="unet_generator",
):
    """Build the pix2pix U-Net as a functional Keras model.

    The encoder halves the resolution `log2(image_size)` times, down to 1x1 for an input of
    `image_size`; the decoder mirrors it, concatenating the matching encoder features when
    `skip_connections` is on (off gives the paper's plain encoder-decoder ablation). The model
    is fully convolutional: it accepts any height and width that are multiples of
    `2 ** log2(image_size)`.

    Each encoder stage is a 4x4 conv, norm, LeakyReLU(0.2); each decoder stage an upsampling
    conv, norm, dropout, ReLU. `downsample="antialias"` convolves at stride 1 and subsamples
    with a [1, 2, 1] blur after the LeakyReLU (`BlurDownsample2D`), as CUT's networks do;
    it costs about 4x the encoder's compute. `upsample="resize"` or `"antialias"` replaces
    each 4x4 transposed conv (the last one included) by a nearest-neighbour or binomial
    upsampling and a 3x3 conv (see `kgan.networks.resampling`).

    Args:
        image_size: training size, a power of two >= 32; sets the depth.
        base_filters: filters of the first layer (64 in the paper); deeper layers use
            2x, 4x, 8x this, capped at 8x.
        skip_connections: concatenate encoder features into the decoder (U-Net) or not.
        norm: "batch", "instance" or "none".
        dropout: dropout rate of the three innermost decoder stages (0 disables).
        input_channels: channels of the input image.
        output_channels: channels of the output image.
        upsample: "transpose" (the paper's), "resize" or "antialias".
        downsample: "strided" (the paper's) or "antialias".
        name: model name.

    Returns:
        `keras.Model` mapping float32 [N, H, W, input_channels] in [-1, 1] to float32
        [N, H, W, output_channels] in [-1, 1] (tanh).
    """
    depth = unet_depth(image_size)
    check_sampling(upsample, downsample)
    filters = [base_filters * min(2**i, 8) for i in range(depth)]

    inputs = keras.Input((None, None, input_channels), name="images")
    x = inputs
    skips = []
    for i, f in enumerate(filters):
        # No norm on the outermost layer (paper) nor the innermost one: a 1x1 map
        # normalised over a batch of one would be all zeros.
        use_norm = 0 < i < depth - 1 and norm != "none"
        x = keras.layers.Conv2D(
            f, 4, strides=downsampling_stride(downsample), padding="same",
            use_bias=not use_norm, kernel_initializer=conv_init(), name=f"down{i}_conv",
        )(x)
        x = apply(
            x,
            normalization(norm, f"down{i}_norm") if use_norm else None,
            keras.layers.LeakyReLU(0.2, name=f"down{i}_lrelu"),
            blur_downsample(downsample, f"down{i}_blur"),
        )
        skips.append(x)

    for j, i in enumerate(reversed(range(depth - 1))):
        x = upsampling_conv(x, filters[i], 4, upsample, f"up{i}", use_bias=norm == "none")
        x = apply(
            x,
            normalization(norm, f"up{i}_norm"),
            keras.layers.Dropout(dropout, name=f"up{i}_dropout") if dropout and j < 3 else None,
            keras.layers.ReLU(name=f"up{i}_relu"),
        )
        if skip_connections:
            x = keras.layers.Concatenate(name=f"up{i}_skip")([x, skips[i]])

    x = upsampling_conv(x, output_channels, 4, upsample, "out")
    outputs = keras.layers.Activation("tanh", dtype="float32", name="out_tanh")(x)
    return keras.Model(inputs, outputs, name=name)
