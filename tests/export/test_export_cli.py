"""Command lines: python -m kgan.export and python -m kgan.translate."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from kgan import translate
from kgan.export import __main__ as export_cli
from kgan.networks import resnet_generator

from helpers import one_error_line, save_image


@pytest.fixture(scope="module")
def run_dir(generator, tmp_path_factory):
    """A run folder as the training recipes write it: RUN_DIR/generator.keras."""
    folder = tmp_path_factory.mktemp("run")
    generator.save(str(folder / "generator.keras"))
    return str(folder)


def test_export_cli_writes_versions_and_refuses_existing_one(run_dir, tmp_path, capsys):
    base = str(tmp_path / "savedmodels")
    args = ["--checkpoint", run_dir, "--name", "tiny", "--export-base", base]
    assert export_cli.main(args) == 0
    assert capsys.readouterr().out.strip() == os.path.join(base, "tiny", "1")
    keras_file = os.path.join(run_dir, "generator.keras")
    assert export_cli.main(["--checkpoint", keras_file, "--name", "tiny", "--export-base", base]) == 0
    assert capsys.readouterr().out.strip() == os.path.join(base, "tiny", "2")

    assert export_cli.main(args + ["--version", "1"]) == 1
    assert "exists already" in one_error_line(capsys.readouterr().err)
    assert sorted(os.listdir(os.path.join(base, "tiny"))) == ["1", "2"]


@pytest.fixture(scope="module")
def cyclegan_run_dir(tmp_path_factory):
    """A CycleGAN run folder's final generators: generator_ab.keras and generator_ba.keras,
    two tiny ResNets with different weights."""
    folder = tmp_path_factory.mktemp("cyclegan_run")
    for seed, name in enumerate(("generator_ab", "generator_ba")):
        tf.keras.utils.set_random_seed(seed)
        resnet_generator(32, n_blocks=1, base_filters=4, name=name).save(folder / f"{name}.keras")
    return folder


def _served(version_dir, images):
    signature = tf.saved_model.load(str(version_dir)).signatures["serving_default"]
    return signature(images=tf.constant(images))["images"].numpy()


def test_export_cli_exports_both_generators_of_a_cyclegan_run(cyclegan_run_dir, tmp_path, capsys):
    base = tmp_path / "savedmodels"
    args = ["--checkpoint", str(cyclegan_run_dir), "--name", "tiles", "--export-base", str(base)]
    assert export_cli.main(args) == 0
    assert capsys.readouterr().out.split() == [str(base / "tiles" / "1"),
                                               str(base / "tiles_BtoA" / "1")]
    images = np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)
    for name, version_dir in (("generator_ab", base / "tiles" / "1"),
                              ("generator_ba", base / "tiles_BtoA" / "1")):
        expected = tf.keras.models.load_model(cyclegan_run_dir / f"{name}.keras")(images)
        np.testing.assert_allclose(_served(version_dir, images), expected, atol=1e-5)

    # --version N for both, refused for both when one of them has it already.
    os.makedirs(base / "tiles_BtoA" / "3")
    assert export_cli.main(args + ["--version", "3"]) == 1
    assert "tiles_BtoA/3 exists already" in one_error_line(capsys.readouterr().err)
    assert sorted(os.listdir(base / "tiles")) == ["1"]


def test_export_cli_precision_sets_what_the_export_computes_in(cyclegan_run_dir, tmp_path,
                                                                capsys):
    base = tmp_path / "savedmodels"
    images = np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)
    expected = tf.keras.models.load_model(cyclegan_run_dir / "generator_ab.keras")(images)
    served = {}
    for precision in ("mixed_bfloat16", "float32"):
        args = ["--checkpoint", str(cyclegan_run_dir / "generator_ab.keras"), "--name",
                precision, "--export-base", str(base), "--precision", precision]
        assert export_cli.main(args) == 0
        served[precision] = _served(base / precision / "1", images)
        assert served[precision].dtype == np.float32  # float32 at the edges either way
    # bfloat16 inside: close to the float32 generator, not equal; float32: equal.
    difference = np.abs(served["mixed_bfloat16"] - expected).max()
    assert 1e-6 < difference < 0.05
    np.testing.assert_allclose(served["float32"], expected, atol=1e-5)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--checkpoint", "missing_run", "--name", "tiny"], "no generator at"),
        (["--name", "../escape"], "invalid model name"),
        # Valid alone, but the B -> A export adds "_BtoA" and goes past 64 characters.
        (["--checkpoint", "CYCLEGAN", "--name", "x" * 60], f"invalid model name '{'x' * 60}_BtoA'"),
    ],
)
def test_export_cli_errors_are_one_line(run_dir, cyclegan_run_dir, tmp_path, capsys, args,
                                        message):
    args = [str(cyclegan_run_dir) if arg == "CYCLEGAN" else arg for arg in args]
    if "--checkpoint" not in args:
        args = ["--checkpoint", run_dir] + args
    assert export_cli.main(args + ["--export-base", str(tmp_path)]) == 1
    assert message in one_error_line(capsys.readouterr().err)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("args", [[], ["--checkpoint", "x", "--name", "y", "--version", "0"]])
def test_export_cli_bad_arguments_exit_2(args, capsys):
    with pytest.raises(SystemExit) as raised:
        export_cli.main(args)
    assert raised.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


def test_export_cli_corrupt_checkpoint_is_one_line_error(tmp_path, capsys):
    corrupt = tmp_path / "generator.keras"
    corrupt.write_bytes(b"not a zip file")
    args = ["--checkpoint", str(tmp_path), "--name", "x", "--export-base", str(tmp_path / "out")]
    assert export_cli.main(args) == 1
    assert "cannot load" in one_error_line(capsys.readouterr().err)


def test_translate_cli_keeps_names_and_sizes(export_dir, tmp_path, capsys):
    inputs = tmp_path / "in"
    os.makedirs(inputs)
    save_image(inputs / "a.jpg", (45, 30))
    save_image(inputs / "b.png", (64, 32), mode="L")
    save_image(inputs / "c.PNG", (20, 20), mode="RGBA")
    (inputs / "notes.txt").write_text("not an image")
    extra = tmp_path / "d.jpeg"
    save_image(extra, (33, 77))
    model_dir = os.path.dirname(export_dir)  # NAME: the latest version is used

    output = str(tmp_path / "out")
    args = ["--model", model_dir, "--input", str(inputs), str(extra), "--output", output]
    assert translate.main(args) == 0
    assert "wrote 4 PNGs" in capsys.readouterr().out
    sizes = {}
    for name in sorted(os.listdir(tmp_path / "out")):
        with Image.open(tmp_path / "out" / name) as image:
            sizes[name] = (image.format, image.mode, image.size)
    assert sizes == {
        "a.png": ("PNG", "RGB", (45, 30)),
        "b.png": ("PNG", "RGB", (64, 32)),
        "c.png": ("PNG", "RGB", (20, 20)),
        "d.png": ("PNG", "RGB", (33, 77)),
    }


def test_translate_cli_skips_bad_files_and_exits_1(export_dir, tmp_path, capsys):
    save_image(tmp_path / "good.png", (32, 32))
    (tmp_path / "bad.png").write_bytes(b"this is text")
    out = tmp_path / "out"
    args = ["--model", export_dir, "--input", str(tmp_path / "bad.png"), str(tmp_path / "good.png"),
            "--output", str(out)]
    assert translate.main(args) == 1
    err = capsys.readouterr().err
    assert "skipped" in err and "bad.png" in err and "JPEG or PNG" in err
    assert "Traceback" not in err and err.strip().splitlines()[-1].startswith("error: 1 of 2")
    assert os.listdir(out) == ["good.png"]


@pytest.mark.parametrize(
    "setup, message",
    [
        ("missing-model", "no exported model"),
        ("missing-input", "no such file or folder"),
        ("empty-folder", "no .jpg, .jpeg or .png files"),
        ("same-base-name", "would both be written"),
    ],
)
def test_translate_cli_errors_are_one_line(export_dir, tmp_path, capsys, setup, message):
    model, inputs = export_dir, [str(tmp_path / "in")]
    os.makedirs(tmp_path / "in")
    if setup == "missing-model":
        model = str(tmp_path / "nothing")
        save_image(tmp_path / "in" / "a.png", (8, 8))
    elif setup == "missing-input":
        inputs = [str(tmp_path / "nowhere")]
    elif setup == "same-base-name":
        save_image(tmp_path / "in" / "a.png", (8, 8))
        save_image(tmp_path / "in" / "a.jpg", (8, 8))
    args = ["--model", model, "--input", *inputs, "--output", str(tmp_path / "out")]
    assert translate.main(args) == 1
    assert message in one_error_line(capsys.readouterr().err)


def test_modules_run_as_commands(run_dir, tmp_path):
    """`python -m` entry points: exit status and a one-line error, in a real process."""
    result = subprocess.run(
        [sys.executable, "-m", "kgan.export", "--checkpoint", str(tmp_path / "nothing"),
         "--name", "m", "--export-base", str(tmp_path / "savedmodels")],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: no generator at")
    assert result.stdout == ""


# Reliability (docs/reliability.md): data loss, bounded work, one-line errors.

def test_translate_never_overwrites_its_inputs(export_dir, tmp_path, capsys):
    folder = tmp_path / "pngs"
    folder.mkdir()
    save_image(folder / "a.png", (32, 32))
    original = (folder / "a.png").read_bytes()
    args = ["--model", export_dir, "--input", str(folder), "--output", str(folder)]
    assert translate.main(args) == 1
    assert "would overwrite the input" in one_error_line(capsys.readouterr().err)
    assert (folder / "a.png").read_bytes() == original
    assert os.listdir(folder) == ["a.png"]


def test_translate_output_naming_a_file_is_one_line(export_dir, tmp_path, capsys):
    save_image(tmp_path / "a.png", (32, 32))
    (tmp_path / "taken").write_text("a file")
    args = ["--model", export_dir, "--input", str(tmp_path / "a.png"), "--output",
            str(tmp_path / "taken")]
    assert translate.main(args) == 1
    assert "is a file" in one_error_line(capsys.readouterr().err)


def _huge_png(path, side=20000):
    """A PNG header claiming side x side pixels, followed by junk: a few bytes on disk."""
    import struct
    import zlib
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk
                     + struct.pack(">I", zlib.crc32(chunk)) + b"\0" * 64)


def test_translate_skips_images_over_the_exports_bound(generator, tmp_path, capsys):
    base = tmp_path / "savedmodels"
    save_image(tmp_path / "ok.png", (32, 32))
    save_image(tmp_path / "big.png", (80, 80))
    assert export_cli.main(["--checkpoint", _keras_file(generator, tmp_path), "--name", "m",
                            "--export-base", str(base), "--max-pixels", str(64 * 64)]) == 0
    capsys.readouterr()
    _huge_png(tmp_path / "huge.png")
    out = tmp_path / "out"
    args = ["--model", str(base / "m"), "--input", str(tmp_path / "huge.png"),
            str(tmp_path / "big.png"), str(tmp_path / "ok.png"), "--output", str(out)]
    assert translate.main(args) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "skipped" in err and "huge.png" in err and "20000x20000" in err
    assert "big.png" in err and "4096" in err
    assert err.strip().splitlines()[-1].startswith("error: 2 of 3")
    assert os.listdir(out) == ["ok.png"]


def _keras_file(generator, tmp_path):
    path = tmp_path / "generator.keras"
    if not path.exists():
        generator.save(str(path))
    return str(path)


@pytest.mark.parametrize("setup, message", [
    ("image-size-7", "--image-size 7 must be a multiple of the stride 32"),
    ("export-base-file", "is a file, not a folder"),
    ("file-named-1", None),
    ("nan-generator", "non-finite weights"),
])
def test_export_cli_reliability(generator, tmp_path, capsys, setup, message):
    base = tmp_path / "savedmodels"
    args = ["--checkpoint", _keras_file(generator, tmp_path), "--name", "m", "--export-base",
            str(base)]
    if setup == "image-size-7":
        args += ["--image-size", "7"]
    elif setup == "export-base-file":
        base.write_text("a file")
    elif setup == "file-named-1":
        (base / "m").mkdir(parents=True)
        (base / "m" / "1").write_text("not a version")
        (base / "m" / ".tmp-0123456789ab-2").mkdir()  # left by a killed export
    elif setup == "nan-generator":
        broken = keras.models.clone_model(generator)
        broken.set_weights([w * np.nan for w in generator.get_weights()])
        broken.save(str(tmp_path / "nan.keras"))
        args[1] = str(tmp_path / "nan.keras")
    status = export_cli.main(args)
    if message is None:
        assert status == 0
        assert capsys.readouterr().out.strip() == str(base / "m" / "2")
        assert sorted(os.listdir(base / "m")) == ["1", "2"]
    else:
        assert status == 1
        assert message in one_error_line(capsys.readouterr().err)
