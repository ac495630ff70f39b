"""The TFDS `pix2pix/<name>` builder: download -> checksum -> extract -> prepare from a
local HTTP server, the manual-dir path with the real facades images, and the offline error."""

import contextlib
import functools
import hashlib
import http.server
import os
import socket
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from kgan.data import paired_source, prepare_pairs
from kgan.data.paired import tfds_pairs
from kgan.data.tfds_common import check_reachable, split_pair
from kgan.data.tfds_pix2pix import DEFAULT_BASE_URL, pix2pix_builder
from kgan.errors import KganError
from kgan.recipes import pix2pix as pix2pix_recipe

REPO = Path(__file__).resolve().parents[2]
FACADES = REPO.parent / "shared" / "datasets" / "facades"  # gated by facades_dir
SERVER_LIFETIME_S = 120


@contextlib.contextmanager
def serve(folder):
    """Serve `folder` over HTTP on 127.0.0.1 from a thread; yields the base URL.

    The server stops on exit, and on its own after SERVER_LIFETIME_S should a test hang.
    """
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    watchdog = threading.Timer(SERVER_LIFETIME_S, server.shutdown)
    thread.start()
    watchdog.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        watchdog.cancel()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _make_archive(path, name, files_by_split):
    """Write `<name>.tar.gz` in the published layout `<name>/<split>/<file>`."""
    with tarfile.open(path, "w:gz") as tar:
        for split, files in files_by_split.items():
            for arcname, source in files:
                tar.add(source, arcname=f"{name}/{split}/{arcname}")
    return path


def _synthetic_archive(folder, sizes=(("train", 3), ("val", 2), ("test", 2))):
    """A tiny facades.tar.gz of 16x32 A|B PNG/JPEG images; A dark, B light."""
    files = {}
    rng = np.random.default_rng(0)
    for split, count in sizes:
        files[split] = []
        for i in range(1, count + 1):
            a = rng.integers(0, 100, (16, 16, 3), dtype=np.uint8)
            image = np.concatenate([a, 255 - a], axis=1)
            path = folder / "images" / split / f"{i}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(image).save(path)
            files[split].append((f"{i}.png", path))
    return _make_archive(folder / "facades.tar.gz", "facades", files)


def _checksums_file(path, url, archive):
    data = Path(archive).read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()
    path.write_text(f"{url}\t{len(data)}\t{sha256}\t{Path(archive).name}\n")
    return str(path)


def test_download_checksum_extract_prepare_from_local_server(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    archive = _synthetic_archive(served)
    tfds_dir = tmp_path / "tfds"
    with serve(served) as base_url:
        checksums = _checksums_file(tmp_path / "checksums.tsv", base_url + "facades.tar.gz", archive)
        builder = pix2pix_builder("facades", str(tfds_dir), base_url=base_url,
                                          checksums_file=checksums)
    assert {s: builder.info.splits[s].num_examples for s in ("train", "val", "test")} == {
        "train": 3, "val": 2, "test": 2}
    # TFDS kept the download under its checksum-named file, with its INFO record.
    downloads = list((tfds_dir / "downloads" / "pix2pix").iterdir())
    assert any(p.name.endswith(".INFO") for p in downloads), downloads
    a, b = next(iter(tfds_pairs(builder, "val")))
    assert a.shape == b.shape == (16, 16, 3)
    np.testing.assert_array_equal(a.numpy(), 255 - b.numpy())  # lossless PNG halves
    # Prepared once: a second call reads the prepared files, the server being gone.
    again = pix2pix_builder("facades", str(tfds_dir), base_url=base_url,
                                    checksums_file=checksums)
    assert again.info.splits["train"].num_examples == 3


def test_wrong_checksum_fails_clearly_and_leaves_nothing(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    archive = _synthetic_archive(served)
    tfds_dir = tmp_path / "tfds"
    checksums = tmp_path / "checksums.tsv"
    size = archive.stat().st_size
    with serve(served) as base_url:
        checksums.write_text(f"{base_url}facades.tar.gz\t{size}\t{'0' * 64}\tfacades.tar.gz\n")
        with pytest.raises(KganError) as error:
            pix2pix_builder("facades", str(tfds_dir), base_url=base_url,
                                    checksums_file=str(checksums))
    message = str(error.value)
    assert "facades.tar.gz" in message and "wrong checksum" in message and "\n" not in message
    prepared = tfds_dir / "pix2pix" / "facades"
    assert not prepared.exists() or not any("1.0.0" in p.name for p in prepared.iterdir())
    leftovers = [p for p in tfds_dir.rglob("*") if ".tmp." in p.name or "incomplete" in p.name]
    assert leftovers == []


def test_unreachable_server_gives_the_guidance(tmp_path):
    with socket.socket() as closed:  # bound, not listening: connections are refused
        closed.bind(("127.0.0.1", 0))
        base_url = f"http://127.0.0.1:{closed.getsockname()[1]}/"
        start = time.monotonic()
        with pytest.raises(KganError) as error:
            pix2pix_builder("facades", str(tmp_path / "tfds"), base_url=base_url)
    message = str(error.value)
    assert time.monotonic() - start < 30  # no retries against a refusing server
    assert f"cannot download {base_url}facades.tar.gz" in message
    assert f"put facades.tar.gz in {tmp_path / 'tfds' / 'downloads' / 'manual'}" in message
    assert "--data-dir" in message


@pytest.mark.skipif(check_reachable(DEFAULT_BASE_URL) is None,
                    reason="the pix2pix host is reachable: this test is for offline machines")
def test_offline_recipe_prints_one_line_and_exits_nonzero(tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", KGAN_PIX2PIX_URL="")
    start = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "kgan.recipes.pix2pix", "--dataset", "facades",
         "--tfds-dir", str(tmp_path / "tfds"), "--out", str(tmp_path / "run")],
        capture_output=True, text=True, timeout=120, env=env, cwd=REPO,
    )
    assert result.returncode == 1
    assert time.monotonic() - start < 100  # no download retries: TensorFlow's import aside
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: cannot download {DEFAULT_BASE_URL}facades.tar.gz")
    assert "facades.tar.gz in " in last and "--data-dir" in last


# The real facades images, archived at test time in the published layout.

@pytest.fixture(scope="module")
def facades_tfds(tmp_path_factory, facades_dir):
    """A TFDS data dir with pix2pix/facades prepared from a manual-dir archive."""
    root = tmp_path_factory.mktemp("facades_tfds")
    manual = root / "downloads" / "manual"
    manual.mkdir(parents=True)
    files = {
        split: [(p.name, p) for p in sorted((FACADES / split).glob("*.jpg"))]
        for split in ("train", "val", "test")
    }
    _make_archive(manual / "facades.tar.gz", "facades", files)
    pix2pix_builder("facades", str(root))
    return root


def test_facades_from_manual_dir_has_published_splits(facades_tfds):
    builder = pix2pix_builder("facades", str(facades_tfds))
    sizes = {s: builder.info.splits[s].num_examples for s in ("train", "val", "test")}
    assert sizes == {"train": 400, "val": 100, "test": 106}
    assert int(paired_source("facades", "val", tfds_dir=str(facades_tfds)).cardinality()) == 100


@pytest.mark.parametrize("direction", ["AtoB", "BtoA"])
def test_facades_input_and_target_are_the_right_halves(facades_tfds, direction):
    builder = pix2pix_builder("facades", str(facades_tfds))
    examples = builder.as_dataset(split="test", shuffle_files=False).take(3)
    for example in examples:
        name = example["file_name"].numpy().decode()
        with Image.open(FACADES / name) as image:
            original = np.asarray(image.convert("RGB"))
        photo, labels = original[:, :256], original[:, 256:]  # A = photo (left), B = labels
        pair = split_pair(example)
        batch = prepare_pairs(tf.data.Dataset.from_tensors(pair), 256, 1, direction)
        inputs, targets = (np.asarray((t[0].numpy() + 1) * 127.5) for t in next(iter(batch)))
        want_input, want_target = (photo, labels) if direction == "AtoB" else (labels, photo)
        # TF and Pillow decode JPEG with slightly different IDCT and chroma upsampling.
        assert np.abs(inputs - want_input).mean() < 4.0, name
        assert np.abs(targets - want_target).mean() < 4.0, name
        assert np.abs(inputs - want_target).mean() > 20, name


def test_pix2pix_recipe_trains_on_tfds_facades(facades_tfds, tmp_path):
    out = tmp_path / "run"
    code = pix2pix_recipe.main([
        "--dataset", "facades", "--tfds-dir", str(facades_tfds), "--direction", "BtoA",
        "--image-size", "32", "--base-filters", "8", "--batch-size", "4", "--epochs", "1",
        "--steps-per-epoch", "2", "--out", str(out),
    ])
    assert code == 0
    assert (out / "generator.keras").is_file()
    history = (out / "history.csv").read_text().splitlines()
    assert len(history) == 2 and "g_loss" in history[0]


def test_a_set_without_test_split_is_scored_on_val(tmp_path):
    """maps and cityscapes ship train/ and val/ only; their papers score val."""
    served = tmp_path / "served"
    served.mkdir()
    archive = _synthetic_archive(served, sizes=(("train", 3), ("val", 2)))
    with serve(served) as base_url:
        checksums = _checksums_file(tmp_path / "checksums.tsv", base_url + "facades.tar.gz", archive)
        builder = pix2pix_builder("facades", str(tmp_path / "tfds"), base_url=base_url,
                                  checksums_file=checksums)
    assert "test" not in builder.info.splits
    assert len(list(tfds_pairs(builder, "test"))) == 2
