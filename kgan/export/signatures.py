"""Serving signatures of a generator, wrapped in a `tf.Module` that only TensorFlow needs to load.

Two signatures, both batched:

- `serving_default`: `images` float32 [N, H, W, 3] in [-1, 1] -> `images` float32 [N, H, W, 3]
  in [-1, 1]; H and W must be multiples of the generator's stride.
- `translate_image`: `image_bytes` string [N] of JPEG or PNG files (any size; grey and RGBA
  become RGB) -> `image_bytes` string [N] of PNG files at each input's size. The `_bytes`
  suffix makes TF Serving's REST API base64-decode `{"b64": ...}` inputs and encode outputs.

Both bound the work of one image by `max_pixels` (height x width). `translate_image` reads the
size from the PNG header or the JPEG frame header before decoding, so a 20000 x 20000 PNG of a
few hundred KB is refused without allocating its pixels.

Bad requests fail inside the graph with `InvalidArgumentError` and a readable message, because
TF Serving feeds tensors straight to the graph and does not check shapes against the signature.

The pieces of `translate_image` (`decode_for_generator`, `checked_images`,
`encode_translated`) also run around the ONNX and LiteRT files in `kgan.export.runners`, so
all three formats decode, resize, bound and encode alike.
"""

import math

import keras
import numpy as np
import tensorflow as tf

from kgan.data.folders import decode_rgb
from kgan.errors import KganError
from kgan.networks.resampling import BlurDownsample2D

_DOWNSAMPLING_LAYERS = (
    BlurDownsample2D,
    keras.layers.Conv2D,
    keras.layers.SeparableConv2D,
    keras.layers.DepthwiseConv2D,
    keras.layers.MaxPooling2D,
    keras.layers.AveragePooling2D,
)
_PNG_MAGIC = b"\x89PNG"
_JPEG_MAGIC = b"\xff\xd8\xff"
# The smallest side the export checks a generator at (the recipes train at >= 32 px).
MIN_PROBE_SIDE = 32
# Default bound on height x width of one served image: 4096 x 4096 (decoded as float32, 192 MiB).
DEFAULT_MAX_PIXELS = 4096 * 4096


def generator_stride(model):
    """Total downsampling factor of a fully convolutional generator.

    Multiplies the strides of every strided convolution and pooling layer (nested models
    included); transposed convolutions upsample and are not counted. The U-Net of
    `unet_generator(256)` gives 256, the CycleGAN ResNet generator 4.

    Args:
        model: a Keras model.

    Returns:
        int: height and width of inputs must be multiples of this.
    """
    rows = cols = 1
    for layer in walk_layers(model):
        if isinstance(layer, _DOWNSAMPLING_LAYERS):
            stride = layer.strides
            rows *= stride[0]
            cols *= stride[1]
    return math.lcm(rows, cols)


def walk_layers(model):
    """Every layer of `model`, nested models' layers in place of the models."""
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from walk_layers(layer)
        else:
            yield layer


def check_generator(model, stride):
    """Raise KganError unless `model` maps an image of the given stride to the same shape.

    The probe is [1, S, 2 * S, 3] with S the smallest multiple of `stride` that is at least
    `MIN_PROBE_SIDE`: a ResNet generator (stride 4) cannot reflection-pad the 1-pixel maps
    that a 4x8 probe leaves after its downsampling.
    """
    side = stride * math.ceil(MIN_PROBE_SIDE / stride)
    probe = tf.zeros((1, side, 2 * side, 3))
    try:
        output = model(probe, training=False)
    except Exception as error:  # noqa: BLE001 - any failure means "not a generator of stride".
        lines = str(error).strip().splitlines() or [type(error).__name__]
        raise KganError(
            f"the model does not take a {side}x{2 * side} RGB image ({lines[0]}): "
            "export an image-to-image generator or pass the right stride"
        ) from None
    if tuple(output.shape) != tuple(probe.shape):
        raise KganError(
            f"the model maps a {tuple(probe.shape)} image to {tuple(output.shape)}: export an "
            "image-to-image generator with 3 output channels"
        )


def check_exportable(model, stride=None, image_size=None):
    """Check that `model` can be exported; return the stride its inputs need.

    Args:
        model: Keras generator, float32 [N, H, W, 3] in [-1, 1] -> same shape in [-1, 1].
        stride: H and W of inputs must be multiples of this; None counts the generator's
            strided layers (`generator_stride`).
        image_size: the square size images are resized to before the generator, or None.

    Returns:
        int: the stride.

    Raises:
        KganError: the model has non-finite weights, is not an image-to-image generator of
            the stride, or `image_size` is not a multiple of it.
    """
    for variable in model.variables:
        if not np.all(np.isfinite(np.asarray(variable))):
            raise KganError(f"the model has non-finite weights ({variable.path}): it diverged "
                            "in training, and would translate every image to black")
    stride = generator_stride(model) if stride is None else int(stride)
    if image_size is not None and (image_size < stride or image_size % stride):
        raise KganError(f"--image-size {image_size} must be a multiple of the stride {stride} "
                        "of this generator")
    check_generator(model, stride)
    return stride


def checked_images(images, stride, max_pixels):
    """`images` float32 [N, H, W, 3], after run-time checks of what a generator accepts.

    Raises (when run):
        InvalidArgumentError: not 3 channels, an empty batch, H or W not multiples of
            `stride`, or H x W over `max_pixels`; the message says which.
    """
    shape = tf.shape(images)
    return _with_checks(
        images,
        _check(shape[-1] == 3, "images must have 3 channels (RGB), got shape", shape),
        _check(shape[0] > 0, "images is empty: send at least one image"),
        _check(
            tf.reduce_all(shape[1:3] % stride == 0),
            f"image height and width must be multiples of {stride}, got shape",
            shape,
        ),
        _check(_pixels(shape[1], shape[2]) <= max_pixels, _too_large(max_pixels), shape),
    )


def decode_for_generator(data, stride, image_size=None, max_pixels=DEFAULT_MAX_PIXELS):
    """Decode one image file and resize it to a size the generator takes.

    Args:
        data: string scalar, a JPEG or PNG file (grey and RGBA become RGB).
        stride: the generator's stride.
        image_size: square size to resize to; None resizes each side to its nearest multiple
            of `stride` (at least `stride`).
        max_pixels: the largest file (height x width, read from its header) decoded.

    Returns:
        `(image, size)`: float32 [1, H', W', 3] in [-1, 1] (antialiased resize) and the
        file's own int32 [height, width].

    Raises (when run):
        InvalidArgumentError: not a JPEG or PNG file, or larger than `max_pixels`.
    """
    is_image = tf.logical_or(
        tf.strings.substr(data, 0, len(_PNG_MAGIC)) == _PNG_MAGIC,
        tf.strings.substr(data, 0, len(_JPEG_MAGIC)) == _JPEG_MAGIC,
    )
    data = _with_checks(data, _check(is_image, "image_bytes must be JPEG or PNG files"))
    height, width = _encoded_size(data)
    data = _with_checks(data, _check(_pixels(height, width) <= max_pixels,
                                     _too_large(max_pixels), height, width))
    image = decode_rgb(data)  # JPEGs with the exact IDCT: the same pixels on every CPU
    size = tf.shape(image)[:2]
    image = tf.cast(image, tf.float32) / 127.5 - 1.0
    if image_size is not None:
        model_size = tf.constant([image_size, image_size], tf.int32)
    else:
        multiples = tf.cast(tf.round(tf.cast(size, tf.float32) / stride), tf.int32)
        model_size = tf.maximum(multiples, 1) * stride
    return tf.image.resize(image, model_size, antialias=True)[tf.newaxis], size


def encode_translated(translated, size):
    """PNG file (string scalar) of a generator's output float32 [1, H', W', 3] in [-1, 1],
    resized back to `size` (int32 [height, width]) and rounded to uint8."""
    output = tf.image.resize(translated[0], size, antialias=True)
    pixels = tf.round(tf.clip_by_value((output + 1.0) * 127.5, 0.0, 255.0))
    return tf.io.encode_png(tf.cast(pixels, tf.uint8))


def serving_module(generator, stride, image_size=None, max_pixels=DEFAULT_MAX_PIXELS):
    """Wrap a generator and its serving signatures in a `tf.Module` for `tf.saved_model.save`.

    The module tracks the generator's raw `tf.Variable`s, not the Keras model: a Keras 3 model
    (or its `keras.Variable`s) tracked directly saves a SavedModel that `tf.saved_model.load`
    reads but the session-based loader of TF Serving does not ("Could not find variable").

    Args:
        generator: Keras model, float32 [N, H, W, 3] in [-1, 1] -> same shape in [-1, 1].
        stride: H and W of `serving_default` inputs must be multiples of this.
        image_size: size (square) to which `translate_image` resizes every image before the
            generator; None resizes each side to its nearest multiple of `stride` instead.

    Returns:
        `tf.Module` with the tf.functions `serve` and `translate_image`; save it with
        `tf.saved_model.save(module, path, signatures=serving_signatures(module))`.
    """
    stride = int(stride)
    max_pixels = int(max_pixels)

    def translate(images):
        images = _with_rank(images, 4, "images must be [N, H, W, 3]")
        images = checked_images(images, stride, max_pixels)
        return tf.cast(generator(images, training=False), tf.float32)

    def translate_one(data):
        image, size = decode_for_generator(data, stride, image_size, max_pixels)
        return encode_translated(translate(image), size)

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32)])
    def serve(images):
        """float32 [N, H, W, 3] in [-1, 1] -> {"images": float32 [N, H, W, 3] in [-1, 1]}."""
        return {"images": translate(images)}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def translate_image(image_bytes):
        """string [N] of JPEG/PNG files -> {"image_bytes": string [N] of PNG files}."""
        image_bytes = _with_rank(image_bytes, 1, "image_bytes must be a list [N]")
        image_bytes = _with_checks(
            image_bytes,
            _check(tf.size(image_bytes) > 0, "image_bytes is empty: send at least one image"),
        )
        pngs = tf.map_fn(
            translate_one, image_bytes, fn_output_signature=tf.TensorSpec([], tf.string)
        )
        return {"image_bytes": pngs}

    module = tf.Module(name="generator_serving")
    module.generator_variables = [variable.value for variable in generator.variables]
    module.serve = serve
    module.translate_image = translate_image
    return module


def serving_signatures(module):
    """Signature name -> concrete function of a `serving_module`, as TF Serving will see them."""
    return {
        "serving_default": module.serve.get_concrete_function(),
        "translate_image": module.translate_image.get_concrete_function(),
    }


def _too_large(max_pixels):
    return f"image larger than the {max_pixels} pixels (height x width) this export accepts, got"


def _pixels(height, width):
    """height x width as int64 (two int32 sides of 65535 overflow int32)."""
    return tf.cast(height, tf.int64) * tf.cast(width, tf.int64)


def _encoded_size(data):
    """(height, width) of a PNG or JPEG file read from its header, without decoding pixels.

    PNG: the big-endian width and height at bytes 16-23 of the IHDR chunk. JPEG: the frame
    header, through `tf.io.extract_jpeg_shape`.
    """
    def png_size():
        # Padded, so that a file cut short inside its header reads as size 0, not an error.
        header = tf.strings.substr(tf.strings.join([data, tf.constant(b"\0" * 24)]), 16, 8)
        ihdr = tf.io.decode_raw(header, tf.uint8)
        ihdr = tf.cast(ihdr, tf.int64)
        width = ihdr[0] * 2**24 + ihdr[1] * 2**16 + ihdr[2] * 2**8 + ihdr[3]
        height = ihdr[4] * 2**24 + ihdr[5] * 2**16 + ihdr[6] * 2**8 + ihdr[7]
        return tf.stack([height, width])

    def jpeg_size():
        return tf.cast(tf.io.extract_jpeg_shape(data)[:2], tf.int64)

    is_png = tf.strings.substr(data, 0, len(_PNG_MAGIC)) == _PNG_MAGIC
    size = tf.cond(is_png, png_size, jpeg_size)
    return size[0], size[1]


def _check(condition, message, *values):
    """An assert op failing with InvalidArgumentError "message values..." (values at run time)."""
    return tf.debugging.Assert(condition, [message, *values], summarize=8, name="check")


def _with_checks(tensor, *checks):
    """`tensor`, computed only after `checks` pass."""
    with tf.control_dependencies(checks):
        return tf.identity(tensor)


def _with_rank(tensor, rank, message):
    """`tensor` after a run-time rank check, which runs before any other check.

    TF Serving feeds tensors of any shape to the signature, but graph optimisation folds the
    rank of a tensor whose declared rank is known, and the check with it. The shape is
    round-tripped through `serialize_tensor`/`parse_tensor` to hide its length from the folding.
    """
    shape = tf.shape(tensor)
    dims = tf.io.parse_tensor(tf.io.serialize_tensor(shape), shape.dtype)
    return _with_checks(tensor, _check(tf.size(dims) == rank, f"{message}, got shape", dims))
