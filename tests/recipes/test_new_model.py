"""Adding a model to kgan: the tests' toy GAN (`toy_gan`, defined nowhere in kgan/) trains
through the `Recipe` skeleton, and its run folder, export and loss curves follow its own
declarations, with no edit to the run folder, export, figure or sweep code."""

import json

from toy_gan import RECIPE

from helpers import read_history
from kgan.export.__main__ import generator_files
from kgan.sweep import figures


def test_a_model_defined_only_in_the_tests_trains_exports_and_draws_its_curves(tmp_path,
                                                                               tiny_args):
    sweep = tmp_path / "sweep"
    run, exports = sweep / "runs" / "toy", tmp_path / "savedmodels"
    argv = tiny_args("pix2pix", out=run, export="toy", export_base=exports, pixel_weight=5)
    assert RECIPE.main(argv) == 0
    declared = json.loads((run / "model.json").read_text())
    assert declared["model"] == "ToyGAN"
    assert declared["exports"] == {"generator": ["", "the toy generator"]}
    assert (exports / "toy" / "1" / "saved_model.pb").is_file()
    assert generator_files(str(run), "again") == [("again", str(run / "generator.keras"))]
    (row,) = read_history(run)
    assert float(row["g_pixel"]) > 0 and float(row["val_g_pixel"]) > 0
    assert figures.panel_keys(str(run), row) == {
        "discriminator": "d_loss", "reconstruction": "g_pixel", "adversarial": "g_adv",
        "total": "g_loss"}
    caption = figures.loss_figure(str(sweep), ["toy"], str(tmp_path / "losses.png"))
    assert caption.startswith("Training losses per epoch")
    assert (tmp_path / "losses.png").stat().st_size > 0
