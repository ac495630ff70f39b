"""ONNX and LiteRT exports: their runtimes' outputs against Keras', for the three kinds of
generator trained a few steps, at sizes other than the training size; weights variants and
what the export refuses."""

import os

import numpy as np
import pytest
import tensorflow as tf

import kgan
from kgan.errors import KganError
from kgan.export import portable
from kgan.export.litert_file import LiteRTRunner
from kgan.export.onnx_file import OnnxRunner
from kgan.export.runners import ImageError
from kgan.precision import precision_policy

from helpers import unpaired_batches

RUNNERS = {"onnx": OnnxRunner, "litert": LiteRTRunner}
# (batch, height, width) per generator: non-square, none of them the training size (32 x 32).
SHAPES = {"pix2pix": [(3, 64, 32), (1, 32, 96)],   # U-Net of stride 32
          "cyclegan": [(3, 36, 52), (1, 64, 44)],  # ResNets of stride 4
          "cut": [(2, 44, 36)]}


def _pix2pix():
    model = kgan.Pix2Pix(kgan.unet_generator(32, base_filters=8),
                         kgan.patch_discriminator(16, base_filters=8), seed=0)
    model.compile()
    inputs = np.random.default_rng(0).uniform(-1, 1, (4, 32, 32, 3)).astype("float32")
    model.fit(tf.data.Dataset.from_tensor_slices((inputs, -inputs)).batch(2), epochs=1, verbose=0)
    return model.generator


def _cyclegan():
    generator = lambda: kgan.resnet_generator(32, n_blocks=1, base_filters=4)
    discriminator = lambda: kgan.patch_discriminator(16, conditional=False, base_filters=4)
    model = kgan.CycleGAN(generator(), generator(), discriminator(), discriminator(), seed=0)
    model.compile()
    model.fit(unpaired_batches(n=4), epochs=1, verbose=0)
    return model.generator_ab


def _cut():
    model = kgan.CUT(kgan.resnet_generator(32, n_blocks=1, base_filters=8),
                     kgan.patch_discriminator(16, conditional=False, base_filters=8),
                     nce_layers=("in_pad", "down0_conv", "down1_conv", "block0_add"),
                     head_units=16, seed=0)
    model.compile(**kgan.CUT.MODES["cut"])
    model.fit(unpaired_batches(n=4), epochs=1, verbose=0)
    return model.generator


@pytest.fixture(scope="module")
def trained():
    """Generator name -> its generator after two fit steps of its model (built once).

    Two steps leave outputs of a few 1e-3 (the weights start at N(0, 0.02)), too small for an
    absolute 1e-4 to mean much; noise added to the trained weights makes them span [-1, 1].
    """
    cache = {}

    def get(name):
        if name not in cache:
            tf.keras.utils.set_random_seed(0)
            generator = {"pix2pix": _pix2pix, "cyclegan": _cyclegan, "cut": _cut}[name]()
            rng = np.random.default_rng(0)
            for variable in generator.trainable_variables:
                variable.assign(variable + rng.normal(0, 0.05, variable.shape).astype("float32"))
            cache[name] = generator
        return cache[name]

    return get


def _images(shape, seed=1):
    return np.random.default_rng(seed).uniform(-1, 1, (*shape, 3)).astype(np.float32)


@pytest.mark.parametrize("format_name", ["onnx", "litert"])
@pytest.mark.parametrize("generator_name", ["pix2pix", "cyclegan", "cut"])
def test_runtime_output_equals_keras(trained, tmp_path, generator_name, format_name):
    generator = trained(generator_name)
    path = portable.export_file(generator, format_name, str(tmp_path), name="m")
    assert path == str(tmp_path / "m" / f"1{portable.EXTENSIONS[format_name]}")
    runner = RUNNERS[format_name](path)
    assert runner.stride == kgan.export.generator_stride(generator)
    for shape in SHAPES[generator_name]:
        images = _images(shape)
        expected = generator(images, training=False).numpy()
        output = runner.translate(images)
        assert output.shape == expected.shape and output.dtype == np.float32
        np.testing.assert_allclose(output, expected, atol=1e-4, rtol=0)
        assert np.abs(expected).max() > 0.2  # a generator that outputs ~0 would prove little


@pytest.mark.parametrize("format_name", ["onnx", "litert"])
def test_sizes_off_the_stride_fail_in_one_line(trained, tmp_path, format_name):
    path = portable.export_file(trained("cyclegan"), format_name, str(tmp_path), name="m")
    with pytest.raises(ImageError, match="multiples of 4, got shape 1 30 32 3"):
        RUNNERS[format_name](path).translate(_images((1, 30, 32)))


def test_litert_float16_weights_stay_close(trained, tmp_path):
    """float16 weights: a file half as large, close to Keras."""
    generator = trained("pix2pix")
    images = _images((2, 64, 32))
    expected = generator(images, training=False).numpy()
    sizes, differences = {}, {}
    for weights in ("float32", "float16"):
        path = portable.export_file(generator, "litert", str(tmp_path), name=weights,
                                    weights=weights)
        sizes[weights] = os.path.getsize(path)
        differences[weights] = np.abs(LiteRTRunner(path).translate(images) - expected).max()
    assert sizes["float16"] < 0.6 * sizes["float32"]
    assert differences["float32"] < 1e-5
    assert 1e-6 < differences["float16"] < 1e-3


def test_a_mixed_precision_generator_exports_in_float32(tmp_path):
    with precision_policy("mixed_bfloat16"):
        generator = kgan.resnet_generator(32, n_blocks=1, base_filters=4)
    path = portable.export_file(generator, "onnx", str(tmp_path), name="m")
    images = _images((1, 32, 40))
    as_float32 = kgan.export.savedmodel.with_precision(generator, "float32")
    np.testing.assert_allclose(OnnxRunner(path).translate(images),
                               as_float32(images, training=False), atol=1e-4, rtol=0)


def test_a_file_that_differs_from_keras_is_not_written(trained, tmp_path, monkeypatch):
    """A converted file fed [0, 1] where the generator takes [-1, 1] (a broken normalisation):
    the probe check refuses it and nothing is left.

    The U-Net, because the ResNets cannot show it: their first convolution feeds instance
    norm, which removes the scale and shift of an affine error in the input exactly.
    """
    traced = portable.generator_function

    def shifted(generator):
        return traced(lambda images, training: generator((images + 1.0) / 2.0, training=training))

    monkeypatch.setattr(portable, "generator_function", shifted)
    with pytest.raises(KganError, match=r"m/1.onnx not written: on a probe image it differs"):
        portable.export_file(trained("pix2pix"), "onnx", str(tmp_path), name="m")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("format_name, weights, message", [
    ("onnx", "float16", "--weights float16 is for --format litert only"),
])
def test_export_file_refusals(trained, tmp_path, format_name, weights, message):
    with pytest.raises(KganError, match=message):
        portable.export_file(trained("cyclegan"), format_name, str(tmp_path), name="m",
                             weights=weights)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("format_name", ["onnx", "litert"])
def test_files_not_written_by_kgan_are_refused(tmp_path, format_name):
    path = tmp_path / f"1{portable.EXTENSIONS[format_name]}"
    path.write_bytes(b"not a model")
    with pytest.raises(KganError, match="cannot load .* as an? (ONNX|LiteRT) model"):
        RUNNERS[format_name](str(path))
