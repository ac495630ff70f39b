"""TF Serving layout: versions, refusal to overwrite, atomic writes, names, strides."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from kgan.errors import KganError
from kgan.export import export_generator, generator_stride, list_versions, resolve_export
from kgan.export import savedmodel
from kgan.networks import resnet_generator, unet_generator


def _tree(folder):
    return sorted(
        os.path.relpath(os.path.join(root, name), folder)
        for root, dirs, files in os.walk(folder)
        for name in dirs + files
    )


def _snapshot(folder):
    snapshot = {}
    for path in _tree(folder):
        full = os.path.join(folder, path)
        if os.path.isfile(full):
            with open(full, "rb") as file:
                snapshot[path] = file.read()
    return snapshot


def test_versions_count_up_and_existing_ones_are_refused_and_kept(generator, tmp_path):
    base = str(tmp_path)
    first = export_generator(generator, base, name="facades")
    second = export_generator(generator, base, name="facades")
    tenth = export_generator(generator, base, name="facades", version=10)
    assert [first, second, tenth] == [os.path.join(base, "facades", v) for v in ("1", "2", "10")]
    assert export_generator(generator, base, name="facades").endswith(os.path.join("facades", "11"))
    assert set(os.listdir(os.path.join(base, "facades"))) == {"1", "2", "10", "11"}
    assert {"saved_model.pb", "variables"} <= set(os.listdir(first))
    os.mkdir(tmp_path / "plain")  # a server running as another user must be able to read it
    assert os.stat(first).st_mode == os.stat(tmp_path / "plain").st_mode

    before = _snapshot(second)
    with pytest.raises(KganError, match="exists already"):
        export_generator(generator, base, name="facades", version=2)
    assert _snapshot(second) == before


@pytest.mark.parametrize("failure", [OSError("disk full"), KeyboardInterrupt()])
def test_failed_export_leaves_no_version_behind(generator, tmp_path, monkeypatch, failure):
    def save_half_then_fail(module, path, signatures):
        os.makedirs(os.path.join(path, "variables"))
        with open(os.path.join(path, "saved_model.pb"), "wb") as file:
            file.write(b"half")
        raise failure

    monkeypatch.setattr(savedmodel.tf.saved_model, "save", save_half_then_fail)
    with pytest.raises(type(failure)):
        export_generator(generator, str(tmp_path), name="new")
    assert not os.path.exists(tmp_path / "new")

    os.makedirs(tmp_path / "old" / "1")
    with pytest.raises(type(failure)):
        export_generator(generator, str(tmp_path), name="old")
    assert _tree(tmp_path / "old") == ["1"]


@pytest.mark.parametrize("name", ["", ".", "..", "../up", "a/b", "-x", "a b", "x" * 65, None])
def test_bad_names_are_refused(generator, tmp_path, name):
    with pytest.raises(KganError, match="invalid model name"):
        export_generator(generator, str(tmp_path), name=name)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("version", [0, -1, 1.5, "2", True])
def test_bad_versions_are_refused(generator, tmp_path, version):
    with pytest.raises(KganError, match="invalid version"):
        export_generator(generator, str(tmp_path), name="m", version=version)


def test_resolve_export_finds_latest_version(generator, tmp_path):
    model_dir = tmp_path / "m"
    os.makedirs(model_dir / "3")  # an empty, unfinished folder is not a SavedModel
    with pytest.raises(KganError, match="no saved_model.pb"):
        resolve_export(str(model_dir))
    export_generator(generator, str(tmp_path), name="m", version=9)
    os.makedirs(model_dir / ".10.tmp-abc")
    assert list_versions(str(model_dir)) == [3, 9]
    assert resolve_export(str(model_dir)) == str(model_dir / "9")
    assert resolve_export(str(model_dir / "9")) == str(model_dir / "9")
    with pytest.raises(KganError, match="no exported model"):
        resolve_export(str(tmp_path / "missing"))


@pytest.mark.parametrize("image_size, stride", [(32, 32), (64, 64), (256, 256)])
def test_stride_of_unet_is_its_image_size(image_size, stride):
    assert generator_stride(unet_generator(image_size, base_filters=4)) == stride


def test_antialiased_generators_export_with_their_stride_and_outputs(tmp_path):
    unet = unet_generator(64, base_filters=4, upsample="antialias", downsample="antialias")
    assert generator_stride(unet) == 64  # the blurs subsample, the convolutions do not
    model = resnet_generator(32, n_blocks=1, base_filters=4, upsample="antialias",
                             downsample="antialias")
    rng = np.random.default_rng(0)
    for variable in model.trainable_variables:
        variable.assign(variable + rng.normal(0.0, 0.05, variable.shape).astype("float32"))
    assert generator_stride(model) == 4
    serve = tf.saved_model.load(export_generator(model, str(tmp_path), name="aa"))
    images = rng.uniform(-1, 1, (2, 32, 48, 3)).astype("float32")
    output = serve.signatures["serving_default"](images=tf.constant(images))["images"]
    expected = model(images, training=False).numpy()
    assert expected.std() > 0.01
    np.testing.assert_allclose(output, expected, atol=1e-5, rtol=0)


def test_stride_of_a_resnet_like_generator_is_4():
    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(8, 7, padding="same")(inputs)
    x = keras.layers.Conv2D(16, 3, strides=2, padding="same")(x)
    x = keras.layers.Conv2D(32, 3, strides=2, padding="same")(x)
    x = keras.layers.Conv2DTranspose(16, 3, strides=2, padding="same")(x)
    x = keras.layers.Conv2DTranspose(8, 3, strides=2, padding="same")(x)
    outputs = keras.layers.Conv2D(3, 7, padding="same", activation="tanh")(x)
    model = keras.Model(inputs, outputs)
    assert generator_stride(model) == 4


def test_a_model_that_is_not_an_image_generator_is_refused(tmp_path):
    inputs = keras.Input((None, None, 3))
    outputs = keras.layers.GlobalAveragePooling2D()(inputs)
    with pytest.raises(KganError, match="image-to-image generator"):
        export_generator(keras.Model(inputs, outputs), str(tmp_path), name="pool")
    assert os.listdir(tmp_path) == []


def test_image_size_fixes_the_translate_image_resolution(generator, tmp_path):
    path = export_generator(generator, str(tmp_path), name="fixed", image_size=64)
    translate = tf.saved_model.load(path).signatures["translate_image"]
    image = np.random.default_rng(0).integers(0, 256, (20, 90, 3)).astype(np.uint8)
    png = translate(image_bytes=tf.constant([tf.io.encode_png(image).numpy()]))["image_bytes"]
    output = tf.io.decode_png(png[0]).numpy()

    resized = tf.image.resize(image / 127.5 - 1.0, (64, 64), antialias=True)
    translated = generator(resized[tf.newaxis], training=False)[0]
    expected = tf.image.resize(translated, (20, 90), antialias=True).numpy()
    expected = np.round(np.clip((expected + 1.0) * 127.5, 0, 255))
    assert output.shape == (20, 90, 3)
    assert np.abs(output - expected).max() <= 1
