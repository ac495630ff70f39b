"""Every recipe run writes RUN/logs/ for TensorBoard: step and epoch scalars, samples, HParams."""

import pytest

from kgan.recipes import pix2pix

from helpers import read_events


@pytest.mark.parametrize("recipe, loss", [(pix2pix, "g_recon")])  # the logger alone: callbacks/
def test_run_writes_step_scalars_epoch_logs_samples_and_hparams(recipe, loss, tiny_args,
                                                                tmp_path):
    out = tmp_path / "run"
    argv = tiny_args(recipe.RECIPE.name, out=out, epochs=2, steps_per_epoch=4, log_every=2)
    assert recipe.main(argv) == 0
    scalars, images, plugins = read_events(out / "logs")
    # Every 2 steps over 2 epochs of 4 steps, against the global step.
    assert [step for step, _ in scalars[f"train/{loss}"]] == [2, 4, 6, 8]
    assert [step for step, _ in scalars["epoch/g_loss"]] == [4, 8]
    assert "epoch/val_l1" in scalars and "train/d_loss" in scalars
    assert images == {"samples"}
    assert "hparams" in plugins

    # A resumed run continues the curves after the steps already trained.
    assert recipe.main(tiny_args(recipe.RECIPE.name, out=out, epochs=3, steps_per_epoch=4,
                                 log_every=2)) == 0
    scalars, _, _ = read_events(out / "logs")
    assert sorted(step for step, _ in scalars["epoch/g_loss"]) == [4, 8, 12]
