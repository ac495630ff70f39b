"""kgan.sweep.evaluate_run: a finished run is scored from its checkpoint state and test split;
its training data is never read again."""

import json
import shutil

from helpers import tiny_features

from kgan.recipes import cyclegan
from kgan.sweep.evaluate_run import evaluate_run


def test_a_finished_run_is_scored_without_its_training_images(unpaired_dir, tmp_path, tiny_args):
    run = tmp_path / "run"
    # No --steps-per-epoch: the run's step count comes from its 8 training images.
    argv = tiny_args("cyclegan", data_dir=unpaired_dir, out=run, steps_per_epoch=None)
    assert cyclegan.main(argv) == 0
    for folder in ("trainA", "trainB"):
        shutil.rmtree(f"{unpaired_dir}/{folder}")
    evaluation = evaluate_run(str(run), cyclegan.RECIPE, str(tmp_path / "qualitative"),
                              qualitative=2, feature_extractor=tiny_features)
    assert evaluation["steps"] == 8  # 8 images, batch 1, one epoch: the checkpoint's count
    assert json.loads((run / "evaluation.json").read_text()) == evaluation
    for suffix in ("ab", "ba"):
        assert evaluation["metrics"][f"num_generated_{suffix}"] == 8  # the test images
    assert sorted(p.name for p in (run / "qualitative").iterdir()) == ["00.png", "01.png"]
