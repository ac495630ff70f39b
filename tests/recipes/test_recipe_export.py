"""`--export NAME` of the pix2pix and CycleGAN recipes: the trained generators as SavedModels."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from kgan.errors import KganError
from kgan.export import __main__ as export_cli
from kgan.recipes import cyclegan, pix2pix
from kgan.recipes.export import export_generators


def served(version_dir, images):
    """`serving_default` of the SavedModel in `version_dir`, loaded with TensorFlow alone."""
    signature = tf.saved_model.load(str(version_dir)).signatures["serving_default"]
    return signature(images=tf.constant(images))["images"].numpy()


def assert_serves_like(version_dir, keras_file):
    """The export computes what the saved generator computes (runs trained in float32:
    bfloat16 would differ in rounding between the two graphs, not in what is exported)."""
    images = np.random.default_rng(1).uniform(-1, 1, (1, 32, 32, 3)).astype(np.float32)
    generator = keras.saving.load_model(keras_file)
    expected = np.asarray(generator(images, training=False))
    np.testing.assert_allclose(served(version_dir, images), expected, atol=1e-5)


def test_pix2pix_exports_the_generator_as_the_next_version(tmp_path, capsys, tiny_args):
    out, base = tmp_path / "run", tmp_path / "savedmodels"
    argv = tiny_args("pix2pix", out=out, export_base=base, precision="float32")
    assert pix2pix.main(argv + ["--export", "bluemarble-p2p"]) == 0
    assert f"exported {base / 'bluemarble-p2p' / '1'}\n" in capsys.readouterr().out
    assert_serves_like(base / "bluemarble-p2p" / "1", out / "generator.keras")

    # Rerunning the finished run resumes with nothing left to train; the name, now from a
    # config file, is not exported again (the run folder records its export).
    config = tmp_path / "export.toml"
    config.write_text('export = "bluemarble-p2p"\n')
    assert pix2pix.main(argv + ["--config", str(config)]) == 0
    assert f"already exported {base / 'bluemarble-p2p' / '1'}\n" in capsys.readouterr().out
    assert sorted(os.listdir(base / "bluemarble-p2p")) == ["1"]

    # --export may change between a run and its resumption, like --epochs.
    assert pix2pix.main(argv + ["--export", "renamed"]) == 0
    assert os.listdir(base / "renamed") == ["1"]


def test_cyclegan_exports_both_directions(tmp_path, capsys, unpaired_dir, tiny_args):
    out, base = tmp_path / "run", tmp_path / "savedmodels"
    argv = tiny_args("cyclegan", data_dir=unpaired_dir, out=out, export_base=base,
                     export="tiles", steps_per_epoch=1, precision="float32")
    assert cyclegan.main(argv) == 0
    printed = capsys.readouterr().out
    assert f"exported {base / 'tiles' / '1'}\n" in printed
    assert f"exported {base / 'tiles_BtoA' / '1'}\n" in printed
    assert_serves_like(base / "tiles" / "1", out / "generator_ab.keras")
    assert_serves_like(base / "tiles_BtoA" / "1", out / "generator_ba.keras")

    # python -m kgan.export on the run folder names both generators as --export does.
    assert export_cli.main(["--checkpoint", str(out), "--name", "tiles",
                            "--export-base", str(base)]) == 0
    assert capsys.readouterr().out.split() == [str(base / "tiles" / "2"),
                                               str(base / "tiles_BtoA" / "2")]
    assert_serves_like(base / "tiles" / "2", out / "generator_ab.keras")
    assert_serves_like(base / "tiles_BtoA" / "2", out / "generator_ba.keras")


@pytest.mark.parametrize("recipe, argv, message", [
    (pix2pix, ["--export", "../elsewhere"], "invalid model name '../elsewhere'"),
    (cyclegan, ["--export", "two words"], "invalid model name 'two words'"),
    # Valid alone, but the B -> A export adds "_BtoA" and goes past 64 characters.
    (cyclegan, ["--export", "x" * 60], f"invalid model name '{'x' * 60}_BtoA'"),
    (pix2pix, ["--export", "ok", "--export-base", "FILE"], "file is a file, not a folder"),
    (cyclegan, ["--export", "ok", "--export-base", "FILE/below"], "file is a file, not a folder"),
])
def test_bad_export_fails_before_training_on_one_line(recipe, argv, message, tmp_path, capsys):
    (tmp_path / "file").write_text("")
    argv = [arg.replace("FILE", str(tmp_path / "file")) for arg in argv]
    status = recipe.RECIPE.run_cli(["--out", str(tmp_path / "run"), *argv])
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("error: --export: ") and message in err and err.count("\n") == 1, err
    assert not (tmp_path / "run").exists()  # stopped before the run folder, let alone training


def test_a_failed_export_says_how_to_export_the_saved_generator(tmp_path):
    one_channel = keras.Sequential([keras.Input((None, None, 3)), keras.layers.Conv2D(1, 1)])
    with pytest.raises(KganError) as error:
        export_generators(str(tmp_path), [("m", one_channel, "run/generator.keras")])
    message = str(error.value)
    assert message.startswith("export of m failed: the model maps a (1, 32, 64, 3) image to")
    assert message.endswith("python -m kgan.export --checkpoint run/generator.keras --name m "
                            f"--export-base {tmp_path}")
    assert "\n" not in message and not os.listdir(tmp_path)
