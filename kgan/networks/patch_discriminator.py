"""PatchGAN discriminator: a grid of real/fake logits, one per receptive-field patch.

Reference:
    Isola et al., "Image-to-Image Translation with Conditional Adversarial Networks",
    CVPR 2017, appendix 6.1.2 (1x1 PixelGAN, 16x16, 70x70 and 286x286 ImageGAN).
"""

import keras

from kgan.errors import ConfigError
from kgan.networks.layers import apply, conv_init, normalization
from kgan.networks.resampling import blur_downsample, check_sampling, downsampling_stride

# Receptive field -> number of stride-2 4x4 convolutions before the two stride-1 ones.
STRIDED_LAYERS = {16: 1, 70: 3, 286: 5}
RECEPTIVE_FIELDS = (1, 16, 70, 286)


def patch_discriminator(
    receptive_field=70,
    conditional=True,
    input_channels=3,
    image_channels=3,
    base_filters=64,
    norm="batch",
    downsample="strided",
    name=None,
):
    """Build a PatchGAN discriminator with the paper's receptive field.

    Layouts (C = 4x4 conv + norm + LeakyReLU(0.2), k = base_filters):
        1:   1x1 convs k, 2k, 1 (PixelGAN)
        16:  C(k, s2) C(2k, s1) conv(1, s1)
        70:  C(k, s2) C(2k, s2) C(4k, s2) C(8k, s1) conv(1, s1)
        286: C(k, s2) C(2k, s2) C(4k, s2) C(8k, s2) C(8k, s2) C(8k, s1) conv(1, s1)
    The first layer has no norm. Padding is "same", so the output grid is the input size
    divided by the total stride (8 for 70, 32 for 286) and never vanishes on small images.

    `downsample="antialias"` (CUT's code) makes each s2 layer a stride-1 conv, norm and
    LeakyReLU followed by a [1, 2, 1] blur subsampling by 2 (`BlurDownsample2D`): the same
    output grid, at about 4x the compute, and fields widened by the blurs (16 -> 18 pixels,
    70 -> 84, 286 -> 348).

    Args:
        receptive_field: 1, 16, 70 or 286 pixels.
        conditional: when True (pix2pix) the model takes `[source, image]` and judges the
            pair; when False (CycleGAN) it takes `image` alone.
        input_channels: channels of the conditioning source image.
        image_channels: channels of the judged image.
        base_filters: filters of the first layer (64 in the paper).
        norm: "batch", "instance" or "none".
        downsample: "strided" (the paper's) or "antialias".
        name: model name (default `patch_discriminator_<rf>`).

    Returns:
        `keras.Model`: images float32 [N, H, W, C] in [-1, 1] -> float32 logits
        [N, H / stride, W / stride, 1].
    """
    if receptive_field not in RECEPTIVE_FIELDS:
        raise ConfigError(
            f"receptive field {receptive_field!r} is not supported: use one of "
            f"{', '.join(map(str, RECEPTIVE_FIELDS))}"
        )
    check_sampling(downsample=downsample)
    image = keras.Input((None, None, image_channels), name="images")
    if conditional:
        source = keras.Input((None, None, input_channels), name="source")
        inputs = [source, image]
        x = keras.layers.Concatenate(name="pair")([source, image])
    else:
        inputs = image
        x = image

    def block(x, filters, kernel, stride, index, use_norm=True):
        use_norm = use_norm and norm != "none"
        x = keras.layers.Conv2D(
            filters, kernel, strides=downsampling_stride(downsample) if stride == 2 else stride,
            padding="same", use_bias=not use_norm, kernel_initializer=conv_init(),
            name=f"conv{index}",
        )(x)
        return apply(
            x,
            normalization(norm, f"norm{index}") if use_norm else None,
            keras.layers.LeakyReLU(0.2, name=f"lrelu{index}"),
            blur_downsample(downsample, f"blur{index}") if stride == 2 else None,
        )

    if receptive_field == 1:
        x = block(x, base_filters, 1, 1, 0, use_norm=False)
        x = block(x, base_filters * 2, 1, 1, 1)
        kernel = 1
    else:
        strided = STRIDED_LAYERS[receptive_field]
        x = block(x, base_filters, 4, 2, 0, use_norm=False)
        for n in range(1, strided):
            x = block(x, base_filters * min(2**n, 8), 4, 2, n)
        x = block(x, base_filters * min(2**strided, 8), 4, 1, strided)
        kernel = 4
    logits = keras.layers.Conv2D(
        1, kernel, padding="same", kernel_initializer=conv_init(), dtype="float32",
        name="logits",
    )(x)
    return keras.Model(inputs, logits, name=name or f"patch_discriminator_{receptive_field}")
