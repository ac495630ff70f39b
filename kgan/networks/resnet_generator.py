"""ResNet generator of CycleGAN (Johnson et al.'s style-transfer network).

Reference:
    Zhu et al., "Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial
    Networks", ICCV 2017, appendix 7.2 (c7s1-64, d128, d256, R256 x 9, u128, u64, c7s1-3).
    Johnson et al., "Perceptual Losses for Real-Time Style Transfer and Super-Resolution",
    ECCV 2016.
    Park et al., "Contrastive Learning for Unpaired Image-to-Image Translation", ECCV 2020
    (the encoder layers CUT compares: `NCE_LAYERS`, `resnet_features`).
"""

import keras

from kgan.errors import ConfigError
from kgan.networks.layers import (MAX_IMAGE_SIZE, MIN_IMAGE_SIZE, apply, conv_init,
                                  normalization)
from kgan.networks.resampling import (
    blur_downsample, check_sampling, downsampling_stride, upsampling_conv,
)

# The ResNet generators a recipe's --generator names: residual blocks at the bottleneck (9
# for 256 px in the paper, 6 for 128 px).
RESNET_BLOCKS = {"resnet9": 9, "resnet6": 6}
# The two stride-2 stages: inputs must be multiples of this.
STRIDE = 4
# The layers CUT's PatchNCE loss compares: the paper's nce_layers 0, 4, 8, 12, 16 index the
# official generator's nn.Sequential, which with its default antialiasing reads: 0 reflection
# pad, 1-3 c7s1 conv/norm/ReLU, 4-7 down0 conv (stride 1)/norm/ReLU/blur, 8-11 down1 likewise,
# 12-20 the residual blocks. So the features are the reflection-padded input, the two
# downsampling convolutions' outputs (before their norm, at 1 and 1/2 of the image size) and
# the outputs of the first and the fifth residual block: with downsample="antialias" these
# names are exactly those layers. With downsample="strided" down0_conv and down1_conv
# convolve at stride 2, so their features are at 1/2 and 1/4 of the image size.
NCE_LAYERS = ("in_pad", "down0_conv", "down1_conv", "block0_add", "block4_add")


@keras.saving.register_keras_serializable(package="kgan")
class ReflectionPadding2D(keras.layers.Layer):
    """Pad height and width by mirroring the border (without repeating the edge pixel).

    Args:
        padding: int, pixels added on each side of both spatial axes.

    Input [N, H, W, C] -> output [N, H + 2p, W + 2p, C]; each side needs H, W > p.
    """

    def __init__(self, padding=1, **kwargs):
        super().__init__(**kwargs)
        self.padding = int(padding)

    def call(self, inputs):
        p = self.padding
        return keras.ops.pad(inputs, [[0, 0], [p, p], [p, p], [0, 0]], mode="reflect")

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        grow = lambda size: None if size is None else size + 2 * self.padding
        return (n, grow(h), grow(w), c)

    def get_config(self):
        config = super().get_config()
        config.update(padding=self.padding)
        return config


def resnet_generator(
    image_size=256,
    n_blocks=9,
    base_filters=64,
    norm="instance",
    dropout=0.0,
    input_channels=3,
    output_channels=3,
    upsample="transpose",
    downsample="strided",
    name=None,
):
    """Build the CycleGAN ResNet generator as a functional Keras model.

    Layout (k = base_filters; c7s1-k = reflection pad 3, 7x7 conv, norm, ReLU; dk = 3x3
    stride-2 conv, norm, ReLU; Rk = residual block of two reflection-padded 3x3 convs;
    uk = 3x3 stride-1/2 transposed conv, norm, ReLU):
        c7s1-k, d2k, d4k, R4k x n_blocks, u2k, uk, c7s1-output_channels (tanh, no norm)
    The paper uses 9 blocks for 256 px and 6 for 128 px. CUT's code replaces dk by a 3x3
    stride-1 conv, norm, ReLU and a [1, 2, 1] blur subsampling by 2 (`downsample=
    "antialias"`), and uk by a fixed [1, 3, 3, 1] binomial upsampling, a 3x3 conv, norm, ReLU
    (`upsample="antialias"`); `upsample="resize"` upsamples by nearest-neighbour repetition.

    The model is fully convolutional with a total stride of 4: it accepts any height and
    width that are multiples of 4 (and larger than 6, for the reflection padding).

    Args:
        image_size: training size, checked to be a multiple of 4 in [32, 512]; the
            network itself does not depend on it.
        n_blocks: residual blocks at the bottleneck (9 or 6 in the paper).
        base_filters: filters of the first layer (64 in the paper).
        norm: "instance" (the paper's), "batch" or "none".
        dropout: dropout rate inside the residual blocks (0, the CycleGAN default).
        input_channels: channels of the input image.
        output_channels: channels of the output image.
        upsample: "transpose" (CycleGAN's), "resize" or "antialias" (CUT's).
        downsample: "strided" (CycleGAN's) or "antialias" (CUT's).
        name: model name (default `resnet_generator_<n_blocks>`).

    Returns:
        `keras.Model` mapping float32 [N, H, W, input_channels] in [-1, 1] to float32
        [N, H, W, output_channels] in [-1, 1] (tanh, float32 under mixed precision too).
    """
    if not (MIN_IMAGE_SIZE <= image_size <= MAX_IMAGE_SIZE and image_size % STRIDE == 0):
        raise ConfigError(
            f"image size {image_size} is not supported by the ResNet generator: use a "
            f"multiple of {STRIDE} from {MIN_IMAGE_SIZE} to {MAX_IMAGE_SIZE}"
        )
    if n_blocks < 0:
        raise ConfigError(f"n_blocks must be >= 0, got {n_blocks}")
    check_sampling(upsample, downsample)
    use_bias = norm == "none"  # a norm's offset makes the conv bias redundant

    def conv(x, filters, kernel, stride, label, padding="valid"):
        return keras.layers.Conv2D(
            filters, kernel, strides=stride, use_bias=use_bias, padding=padding,
            kernel_initializer=conv_init(), name=f"{label}_conv",
        )(x)

    def norm_relu(x, label):
        return apply(x, normalization(norm, f"{label}_norm"), keras.layers.ReLU(name=f"{label}_relu"))

    inputs = keras.Input((None, None, input_channels), name="images")
    x = ReflectionPadding2D(3, name="in_pad")(inputs)
    x = norm_relu(conv(x, base_filters, 7, 1, "in"), "in")
    for i in range(2):
        x = conv(x, base_filters * 2 ** (i + 1), 3, downsampling_stride(downsample), f"down{i}",
                 padding="same")
        x = apply(norm_relu(x, f"down{i}"), blur_downsample(downsample, f"down{i}_blur"))

    filters = base_filters * 4
    for b in range(n_blocks):
        label = f"block{b}"
        y = ReflectionPadding2D(1, name=f"{label}_pad_a")(x)
        y = norm_relu(conv(y, filters, 3, 1, f"{label}_a"), f"{label}_a")
        if dropout:
            y = keras.layers.Dropout(dropout, name=f"{label}_dropout")(y)
        y = ReflectionPadding2D(1, name=f"{label}_pad_b")(y)
        y = apply(conv(y, filters, 3, 1, f"{label}_b"), normalization(norm, f"{label}_b_norm"))
        x = keras.layers.Add(name=f"{label}_add")([x, y])

    for i in reversed(range(2)):
        x = upsampling_conv(x, base_filters * 2**i, 3, upsample, f"up{i}", use_bias=use_bias)
        x = norm_relu(x, f"up{i}")

    x = ReflectionPadding2D(3, name="out_pad")(x)
    x = keras.layers.Conv2D(
        output_channels, 7, kernel_initializer=conv_init(), name="out_conv",
    )(x)
    outputs = keras.layers.Activation("tanh", dtype="float32", name="out_tanh")(x)
    return keras.Model(inputs, outputs, name=name or f"resnet_generator_{n_blocks}")


def resnet_features(generator, layer_names=NCE_LAYERS):
    """A model from the generator's input to the outputs of some of its layers (its features).

    The model shares the generator's layers (and weights): training either trains both. The
    generator itself is unchanged.

    Args:
        generator: a functional Keras model, e.g. `resnet_generator()`.
        layer_names: names of its layers, in the order of the returned features (default
            `NCE_LAYERS`, CUT's; with fewer than 5 residual blocks `block4_add` is absent).

    Returns:
        `keras.Model`: images [N, H, W, C] -> list of features [N, h_i, w_i, c_i], one per
        name (in the compute dtype: float16 under mixed precision).

    Raises:
        ConfigError: a name that is not a layer of the generator.
    """
    layers = {layer.name for layer in generator.layers}
    for name in layer_names:
        if name not in layers:
            raise ConfigError(
                f"{generator.name} has no layer {name!r} to take features from: use its "
                "layers' names (in_pad, down0_conv, down1_conv, block<i>_add, ...)"
            )
    outputs = [generator.get_layer(name).output for name in layer_names]
    return keras.Model(generator.inputs, outputs, name=f"{generator.name}_features")
