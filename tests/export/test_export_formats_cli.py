"""python -m kgan.export --format onnx|litert and kgan.translate through each format: the same
PNGs as through the SavedModel, the same names, versions, bounds and refusals; a missing extra."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from kgan import translate
from kgan.export import __main__ as export_cli
from kgan.networks import resnet_generator

from helpers import one_error_line, save_image

FILES = {"savedmodel": "1", "onnx": "1.onnx", "litert": "1.tflite"}


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    """A CycleGAN run folder: two tiny ResNets, weights perturbed so that outputs span much
    of [-1, 1]."""
    run = tmp_path_factory.mktemp("cyclegan_run")
    rng = np.random.default_rng(0)
    for seed, name in enumerate(("generator_ab", "generator_ba")):
        tf.keras.utils.set_random_seed(seed)
        generator = resnet_generator(32, n_blocks=1, base_filters=4, name=name)
        for variable in generator.trainable_variables:
            variable.assign(variable + rng.normal(0, 0.1, variable.shape).astype("float32"))
        generator.save(run / f"{name}.keras")
    return run


@pytest.fixture(scope="module")
def exports(run_folder, tmp_path_factory):
    """The run folder exported by the command line in each format; returns the export base."""
    base = tmp_path_factory.mktemp("savedmodels")
    for format_name in FILES:
        args = ["--checkpoint", str(run_folder), "--name", "tiles", "--export-base", str(base),
                "--format", format_name]
        assert export_cli.main(args) == 0
    return base


def test_each_format_is_a_version_beside_the_others(exports):
    assert sorted(os.listdir(exports / "tiles")) == ["1", "1.onnx", "1.tflite"]
    assert sorted(os.listdir(exports / "tiles_BtoA")) == ["1", "1.onnx", "1.tflite"]


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    save_image(folder / "a.jpg", (45, 30))         # resized to 44 x 32 and back
    save_image(folder / "b.png", (64, 36), mode="L", seed=1)
    save_image(folder / "c.png", (21, 23), mode="RGBA", seed=2)
    return folder


def _translated(model, photos, output, capsys):
    assert translate.main(["--model", str(model), "--input", str(photos),
                           "--output", str(output)]) == 0
    assert "wrote 3 PNGs" in capsys.readouterr().out
    return {name: np.asarray(Image.open(output / name), np.int32)
            for name in sorted(os.listdir(output))}


@pytest.mark.parametrize("name", ["tiles", "tiles_BtoA"])
def test_translate_writes_the_savedmodels_pngs_through_each_format(exports, photos, tmp_path,
                                                                   capsys, name):
    through = {format_name: _translated(exports / name / file, photos, tmp_path / format_name,
                                        capsys)
               for format_name, file in FILES.items()}
    expected = through.pop("savedmodel")
    assert sorted(expected) == ["a.png", "b.png", "c.png"]
    assert {png: image.shape for png, image in expected.items()} == {
        "a.png": (30, 45, 3), "b.png": (36, 64, 3), "c.png": (23, 21, 3)}
    assert np.ptp(expected["a.png"]) > 100  # a translation, not a flat image
    for format_name, pngs in through.items():
        assert sorted(pngs) == sorted(expected)
        for png, image in pngs.items():
            assert image.shape == expected[png].shape
            assert np.abs(image - expected[png]).max() <= 1, (format_name, png)


def test_the_two_directions_are_different_generators(exports, photos, tmp_path, capsys):
    ab = _translated(exports / "tiles" / "1.onnx", photos, tmp_path / "ab", capsys)
    ba = _translated(exports / "tiles_BtoA" / "1.onnx", photos, tmp_path / "ba", capsys)
    assert np.abs(ab["a.png"] - ba["a.png"]).max() > 50


@pytest.mark.parametrize("args, message", [
    (["--format", "onnx", "--precision", "mixed_bfloat16"],
     "--precision mixed_bfloat16 is for SavedModels: onnx files compute in float32"),
    (["--format", "onnx", "--weights", "float16"], "--weights float16 is for --format litert only"),
    (["--format", "litert", "--version", "1"], "tiles/1.tflite exists already"),
])
def test_format_refusals_are_one_line_and_write_nothing(run_folder, exports, capsys, args,
                                                        message):
    before = {name: sorted(os.listdir(exports / name)) for name in ("tiles", "tiles_BtoA")}
    assert export_cli.main(["--checkpoint", str(run_folder), "--name", "tiles",
                            "--export-base", str(exports), *args]) == 1
    assert message in one_error_line(capsys.readouterr().err)
    assert {name: sorted(os.listdir(exports / name)) for name in before} == before


def test_translate_through_onnx_keeps_the_bounds_and_refusals(run_folder, exports, tmp_path,
                                                              capsys):
    """--max-pixels is recorded in the file; outputs never overwrite inputs."""
    keras_file = str(run_folder / "generator_ab.keras")
    assert export_cli.main(["--checkpoint", keras_file, "--name", "small", "--export-base",
                            str(exports), "--format", "onnx", "--max-pixels", str(64 * 64)]) == 0
    capsys.readouterr()
    save_image(tmp_path / "ok.png", (32, 32))
    save_image(tmp_path / "big.png", (80, 80))
    model = str(exports / "small" / "1.onnx")
    args = ["--model", model, "--input", str(tmp_path / "big.png"), str(tmp_path / "ok.png")]
    assert translate.main(args + ["--output", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "skipped" in err and "big.png: 80x80 is larger than the 4096 pixels" in err
    assert os.listdir(tmp_path / "out") == ["ok.png"]

    original = (tmp_path / "ok.png").read_bytes()
    assert translate.main(args + ["--output", str(tmp_path)]) == 1
    assert "would overwrite the input" in one_error_line(capsys.readouterr().err)
    assert (tmp_path / "ok.png").read_bytes() == original


def test_translate_refuses_an_onnx_file_kgan_did_not_write(exports, tmp_path, capsys):
    import onnx

    model = onnx.load(str(exports / "tiles" / "1.onnx"))
    del model.metadata_props[:]
    onnx.save(model, str(tmp_path / "foreign.onnx"))
    save_image(tmp_path / "a.png", (32, 32))
    for model, message in ((tmp_path / "foreign.onnx", "has no kgan metadata"),
                           (tmp_path / "missing.tflite", "no exported model at")):
        args = ["--model", str(model), "--input", str(tmp_path / "a.png"), "--output",
                str(tmp_path / "out")]
        assert translate.main(args) == 1
        assert message in one_error_line(capsys.readouterr().err)


# Makes `import onnxruntime` fail as it does where the onnx extra is not installed.
_WITHOUT_ONNXRUNTIME = textwrap.dedent("""
    import sys

    class _NotInstalled:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] == "onnxruntime":
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, _NotInstalled())
""")


def test_a_missing_extra_is_one_line_naming_it(run_folder, exports, tmp_path):
    (tmp_path / "shim").mkdir()
    (tmp_path / "shim" / "sitecustomize.py").write_text(_WITHOUT_ONNXRUNTIME)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(tmp_path / "shim"), *sys.path]))
    save_image(tmp_path / "a.png", (32, 32))
    commands = [
        ["kgan.export", "--checkpoint", str(run_folder), "--name", "m", "--export-base",
         str(tmp_path / "out"), "--format", "onnx"],
        ["kgan.translate", "--model", str(exports / "tiles" / "1.onnx"), "--input",
         str(tmp_path / "a.png"), "--output", str(tmp_path / "out")],
    ]
    for command in commands:
        result = subprocess.run([sys.executable, "-m", *command], env=env, capture_output=True,
                                text=True, timeout=300)
        assert result.returncode == 1, result.stderr
        assert "Traceback" not in result.stderr and result.stdout == ""
        # TensorFlow's C++ start-up lines come first.
        assert result.stderr.strip().splitlines()[-1] == (
            'error: onnxruntime is not installed, which the onnx format needs: '
            'pip install "kgan[onnx]"')
    assert not (tmp_path / "out").exists()


def test_a_missing_litert_extra_is_one_line(exports, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)  # import fails
    save_image(tmp_path / "a.png", (32, 32))
    args = ["--model", str(exports / "tiles" / "1.tflite"), "--input", str(tmp_path / "a.png"),
            "--output", str(tmp_path / "out")]
    assert translate.main(args) == 1
    assert one_error_line(capsys.readouterr().err) == (
        'error: ai_edge_litert is not installed, which the litert format needs: '
        'pip install "kgan[litert]"')
