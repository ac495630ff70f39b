"""Evaluate one finished run folder on its test split: `python -m kgan.sweep.evaluate_run RUN`.

Reads the run's config.toml and its saved generator(s), translates the test split of the
data it was trained on under a test protocol (`kgan.metrics.protocol`), and writes
RUN/evaluation.json:

    {"steps": total training steps, "protocol": "inference" or "paper",
     "feature_precision": "float32", "validation": "val" or "none" (with --eval-every: whether
         the run had a validation split to pick its best epoch on),
     "metrics": {"fid", "fid_low", "fid_high", "kid", "precision", "recall", "psnr", "ssim",
                 "num_generated", "num_reference"}                      # paired data
             or the unpaired keys with _ab (and, for two generators, _ba) appended,
     "best": {"epoch", "val_fid", "metrics": {the same keys}}}         # when RUN/best/ exists

The metric keys are `kgan.metrics.registry`'s; fid_low and fid_high bound FID's sampling
error over the test images (`kgan.metrics.fid_interval`, from the same features). RUN/best/
holds the generators of the epoch with the lowest validation FID (`--eval-every` on a
validation split); they are scored on the test split like the final ones. Also written:
RUN/qualitative/NN.png, the final generator's outputs for the first N test inputs, whose
inputs (and, for paired data, targets) go to --qualitative-dir/inputs/ and targets/, the same
for every run. The sweep runs this in a child process, so the Inception network and the
generators are freed when it ends.
"""

import argparse
import json
import math
import os
import sys

import keras
import numpy as np
from PIL import Image

from kgan.atomic import atomic_path, write_text
from kgan.callbacks.best_generator import read_best
from kgan.callbacks.tensorboard import log_test_metrics
from kgan.cli import load_keras_model, positive_int, run_reporting_errors
from kgan.data import paired_source, prepare_pairs, resize, to_float, to_uint8, unpaired_source
from kgan.errors import KganError
from kgan.metrics import registry
from kgan.metrics.evaluation import EVAL_BATCH_SIZE, ImageSetMetrics
from kgan.metrics.fid_interval import fid_interval
from kgan.metrics.inception import inception_feature_extractor
from kgan.metrics.protocol import PROTOCOLS, generate
from kgan.precision import PRECISIONS
from kgan.recipes.registry import RECIPES
from kgan.run_folder import EVALUATION, STATE, RunFolder, read_json_object


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m kgan.sweep.evaluate_run",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("run", metavar="RUN", help="a finished recipe run folder")
    parser.add_argument("--recipe", required=True, choices=tuple(RECIPES),
                        help="the recipe that trained it")
    parser.add_argument("--qualitative-dir", help="where the shared qualitative inputs/targets go "
                        "(default RUN/qualitative_inputs)")
    parser.add_argument("--qualitative", type=positive_int, default=4, metavar="N")
    parser.add_argument("--eval-images", type=positive_int, metavar="N",
                        help="score the first N test images of each set (default: all)")
    parser.add_argument("--feature-extractor", default="fid",
                        help="fid (default) or a .weights.h5 file of the FID network")
    parser.add_argument("--feature-precision", default="float32", choices=PRECISIONS,
                        help="dtype policy of the Inception features (default float32)")
    parser.add_argument("--protocol", default="inference", choices=PROTOCOLS,
                        help="how the generator runs: inference (dropout off, moving batch-norm "
                        "statistics; default) or paper (dropout on, batch statistics, as "
                        "pix2pix's paper scores)")
    return parser.parse_args(argv)


def _domain_batches(options, domain, count):
    """The first `count` (None: all) test images of one domain, float32 [N, S, S, 3] in
    [-1, 1], in a fixed order."""
    source = unpaired_source(options.dataset, domain, "test", options.data_dir,
                             options.image_size, tfds_dir=options.tfds_dir,
                             on_bad_image=options.on_bad_image)
    images = source.map(lambda image: to_float(resize(image, options.image_size)))
    return images.take(count or -1).batch(EVAL_BATCH_SIZE)


def _paired_batches(options, count):
    """The first `count` (None: all) test (input, target) pairs, batched, in a fixed order."""
    source = paired_source(options.dataset, "test", options.data_dir, options.image_size,
                           tfds_dir=options.tfds_dir, on_bad_image=options.on_bad_image)
    return prepare_pairs(source.take(count or -1), options.image_size, EVAL_BATCH_SIZE,
                         options.direction)


def test_scores(metrics, paired):
    """The registry's metrics of an `ImageSetMetrics` (finite ones), FID's bootstrap interval
    (`fid_low`, `fid_high`), KID's standard error where it has one, and the image counts."""
    result = metrics.result()
    scores = {key: float(result[key]) for key in [*registry.keys(paired), "kid_std"]
              if key in result and math.isfinite(result[key])}
    scores["fid_low"], scores["fid_high"] = fid_interval(metrics.real.features,
                                                         metrics.fake.features)
    scores.update(num_generated=int(metrics.fake.count), num_reference=int(metrics.real.count))
    return scores


def score_paired(generators, batches, feature_extractor, protocol="inference"):
    """Test scores of each generator on (input, target) batches (`test_scores` dicts).

    The targets' features are computed once and shared by the generators.
    """
    metrics = ImageSetMetrics(feature_extractor)
    for _, targets in batches:
        metrics.update_real(targets)
    results = []
    for generator in generators:
        metrics.reset_fake()
        for inputs, targets in batches:
            outputs = generate(generator, inputs, protocol)
            metrics.update_fake(outputs)
            metrics.update_pairs(targets, outputs)
        results.append(test_scores(metrics, paired=True))
    return results


def score_unpaired(generators, inputs, references, feature_extractor, protocol="inference"):
    """Test scores of each generator's outputs for `inputs` against `references`."""
    metrics = ImageSetMetrics(feature_extractor)
    for images in references:
        metrics.update_real(images)
    results = []
    for generator in generators:
        metrics.reset_fake()
        for images in inputs:
            metrics.update_fake(generate(generator, images, protocol))
        results.append(test_scores(metrics, paired=False))
    return results


def _save_png(images, folder, start=0):
    """Write float [N, H, W, 3] images in [-1, 1] as folder/NN.png."""
    os.makedirs(folder, exist_ok=True)
    for index, image in enumerate(np.asarray(to_uint8(images)), start):
        with atomic_path(os.path.join(folder, f"{index:02d}.png")) as tmp:
            Image.fromarray(image).save(tmp, format="PNG")


def _first(batches, count):
    return next(iter(batches.unbatch().batch(count)))


def _load_seeded(path):
    """Load a generator after seeding: a Dropout layer draws its seed from Python's `random`
    when it is built, so under the paper protocol (dropout on) a generator saved twice (final
    and best of the same epoch) is then scored with the same masks and gets the same scores."""
    keras.utils.set_random_seed(0)
    return load_keras_model(path)


def trained_steps(folder):
    """The optimizer steps a finished run trained, read from its newest checkpoint's state
    (the training data is never rebuilt to count them).

    Raises:
        KganError: the folder holds no checkpoint state (it never finished an epoch).
    """
    step = read_json_object(os.path.join(folder.checkpoints, STATE)).get("step")
    if not isinstance(step, int):
        raise KganError(f"{folder.checkpoints} names no checkpoint: {folder.path} is not a "
                        "finished run; rerun its training command to finish it")
    return step


def evaluate_run(run, recipe, qualitative_dir, qualitative=4, eval_images=None,
                 feature_extractor="fid", protocol="inference", feature_precision="float32"):
    """Score a run folder's final (and best) generator(s) on the test split; write
    evaluation.json and the qualitative PNGs (see the module docstring).

    Args:
        run: the run folder, trained to the end.
        recipe: the `kgan.recipes.recipe.Recipe` that trained it.
        qualitative_dir: where the shared qualitative inputs/ and targets/ go.
        qualitative: how many test examples the qualitative figure shows.
        eval_images: score only the first N test images of each set (None: all).
        feature_extractor: "fid", a `.weights.h5` file of the FID network, or a callable
            float32 [N, H, W, 3] in [-1, 1] -> [N, D] (tests).
        protocol: "inference" or "paper" (`kgan.metrics.protocol`).
        feature_precision: dtype policy of the Inception network built here.

    Returns:
        dict: the evaluation.json written.
    """
    folder = RunFolder(run)
    options = recipe.parse_args(["--config", folder.join("config.toml"), "--out", run])
    best = read_best(folder.best)
    sets = [[folder.join(f"{name}.keras") for name in recipe.exports]]
    if best is not None:
        sets.append([os.path.join(folder.best, f"{name}.keras") for name in recipe.exports])
    # One generator per direction, final then best: [[final A->B, best A->B], [B->A ...]].
    by_direction = [[_load_seeded(paths[i]) for paths in sets]
                    for i in range(len(recipe.exports))]
    if not callable(feature_extractor):
        feature_extractor = inception_feature_extractor(feature_extractor,
                                                        precision=feature_precision)
    scores = [{} for _ in sets]
    if recipe.data.paired:
        batches = _paired_batches(options, eval_images)
        for target, result in zip(scores, score_paired(by_direction[0], batches,
                                                       feature_extractor, protocol)):
            target.update(result)
        inputs, targets = _first(batches, qualitative)
        _save_png(targets, os.path.join(qualitative_dir, "targets"))
    else:
        test_a, test_b = (_domain_batches(options, domain, eval_images) for domain in "AB")
        directions = [("ab", test_a, test_b), ("ba", test_b, test_a)][:len(by_direction)]
        for (suffix, inputs, references), generators in zip(directions, by_direction):
            results = score_unpaired(generators, inputs, references, feature_extractor, protocol)
            for target, result in zip(scores, results):
                target.update({f"{key}_{suffix}": value for key, value in result.items()})
        inputs = _first(test_a, qualitative)
    _save_png(inputs, os.path.join(qualitative_dir, "inputs"))
    _save_png(generate(by_direction[0][0], inputs, protocol), folder.join("qualitative"))
    steps = trained_steps(folder)
    evaluation = {"steps": steps, "protocol": protocol, "feature_precision": feature_precision}
    if options.eval_every:
        evaluation["validation"] = "val" if recipe.data.has_validation(options) else "none"
    evaluation["metrics"] = scores[0]
    if best is not None:
        evaluation["best"] = {"epoch": best["epoch"], "val_fid": best["val_fid"],
                              "metrics": scores[1]}
    write_text(folder.join(EVALUATION), json.dumps(evaluation, indent=1))
    log_test_metrics(folder.join("logs"), scores[0], steps)
    if best is not None:
        log_test_metrics(folder.join("logs"), scores[1], steps, prefix="test_best")
    return evaluation


def main(argv=None):
    options = parse_args(argv)
    recipe = RECIPES[options.recipe]
    evaluation = evaluate_run(options.run, recipe,
                              options.qualitative_dir or os.path.join(options.run, "qualitative_inputs"),
                              options.qualitative, options.eval_images, options.feature_extractor,
                              options.protocol, options.feature_precision)
    print(json.dumps({key: value for key, value in evaluation.items() if key != "steps"}))
    return 0


if __name__ == "__main__":
    raise SystemExit(run_reporting_errors(main, sys.argv[1:]))
