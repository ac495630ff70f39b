"""Evaluate one finished run folder on its test split: `python -m kgan.sweep.evaluate_run RUN`.

Reads the run's config.toml and its saved generator(s), translates the test split of the
data it was trained on, and writes RUN/evaluation.json:

    {"steps": total training steps,
     "metrics": {"fid", "precision", "recall", "psnr", "ssim"}          # paired data
             or {"fid_ab", "precision_ab", "recall_ab", "fid_ba", ...}  # two generators
             or {"fid_ab", "precision_ab", "recall_ab"}}                # one unpaired generator

and RUN/qualitative/NN.png: its outputs for the first N test inputs, whose inputs (and, for
paired data, targets) go to --qualitative-dir/inputs/ and targets/, the same for every run.
The sweep runs this in a child process, so the Inception network and the generators are
freed when it ends.
"""

import argparse
import importlib
import json
import os
import sys

import numpy as np
import tensorflow as tf
from PIL import Image

from kgan.atomic import atomic_path, write_text
from kgan.cli import load_keras_model, positive_int, run_reporting_errors
from kgan.callbacks.tensorboard import log_test_metrics
from kgan.data import paired_source, prepare_pairs, resize, to_float, to_uint8, unpaired_source
from kgan.metrics.evaluation import ImageSetMetrics
from kgan.run_folder import EVALUATION, RunFolder

EVAL_BATCH_SIZE = 16


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m kgan.sweep.evaluate_run",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("run", metavar="RUN", help="a finished recipe run folder")
    parser.add_argument("--recipe", required=True, help="the recipe that trained it (pix2pix, cyclegan, ...)")
    parser.add_argument("--qualitative-dir", help="where the shared qualitative inputs/targets go "
                        "(default RUN/qualitative_inputs)")
    parser.add_argument("--qualitative", type=positive_int, default=4, metavar="N")
    parser.add_argument("--eval-images", type=positive_int, metavar="N",
                        help="score the first N test images of each set (default: all)")
    parser.add_argument("--feature-extractor", default="fid",
                        help="fid (default) or a .weights.h5 file of the FID network")
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


def score_paired(generator, batches, feature_extractor):
    """FID, precision/recall, PSNR and SSIM of `generator` on (input, target) batches."""
    metrics = ImageSetMetrics(feature_extractor)
    for inputs, targets in batches:
        outputs = tf.cast(generator(inputs, training=False), tf.float32)
        metrics.update_real(targets)
        metrics.update_fake(outputs)
        metrics.update_pairs(targets, outputs)
    return metrics.result()


def score_unpaired(generator, inputs, references, feature_extractor):
    """FID and precision/recall of `generator`'s outputs for `inputs` against `references`."""
    metrics = ImageSetMetrics(feature_extractor)
    for images in references:
        metrics.update_real(images)
    for images in inputs:
        metrics.update_fake(tf.cast(generator(images, training=False), tf.float32))
    return metrics.result()


def _save_png(images, folder, start=0):
    """Write float [N, H, W, 3] images in [-1, 1] as folder/NN.png."""
    os.makedirs(folder, exist_ok=True)
    for index, image in enumerate(np.asarray(to_uint8(images)), start):
        with atomic_path(os.path.join(folder, f"{index:02d}.png")) as tmp:
            Image.fromarray(image).save(tmp, format="PNG")


def _first(batches, count):
    return next(iter(batches.unbatch().batch(count)))


def evaluate_run(run, recipe, qualitative_dir, qualitative=4, eval_images=None,
                 feature_extractor="fid"):
    """Score a run folder's generator(s) on the test split; write evaluation.json and the
    qualitative PNGs (see the module docstring).

    Args:
        run: the run folder, trained to the end.
        recipe: the `kgan.recipes.recipe.Recipe` that trained it.
        qualitative_dir: where the shared qualitative inputs/ and targets/ go.
        qualitative: how many test examples the qualitative figure shows.
        eval_images: score only the first N test images of each set (None: all).
        feature_extractor: "fid" or a `.weights.h5` file of the FID network.

    Returns:
        dict: `steps` (int) and `metrics` (name -> float).
    """
    folder = RunFolder(run)
    options = recipe.parse_args(["--config", folder.join("config.toml"), "--out", run])
    paths = [folder.join(f"{name}.keras") for name in recipe.generators]
    generators = [load_keras_model(path) for path in paths]
    metrics = {}
    if recipe.data.paired:
        batches = _paired_batches(options, eval_images)
        result = score_paired(generators[0], batches, feature_extractor)
        metrics.update({key: result[key] for key in ("fid", "precision", "recall", "psnr", "ssim")})
        inputs, targets = _first(batches, qualitative)
        _save_png(targets, os.path.join(qualitative_dir, "targets"))
    else:
        test_a, test_b = (_domain_batches(options, domain, eval_images) for domain in "AB")
        directions = [("ab", test_a, test_b), ("ba", test_b, test_a)][:len(generators)]
        for (suffix, inputs, references), generator in zip(directions, generators):
            result = score_unpaired(generator, inputs, references, feature_extractor)
            metrics.update({f"{key}_{suffix}": result[key]
                            for key in ("fid", "precision", "recall")})
        inputs = _first(test_a, qualitative)
    _save_png(inputs, os.path.join(qualitative_dir, "inputs"))
    _save_png(tf.cast(generators[0](inputs, training=False), tf.float32),
              folder.join("qualitative"))
    steps = options.epochs * (options.steps_per_epoch or recipe.data.load(options)[2])
    evaluation = {"steps": steps, "metrics": {k: float(v) for k, v in metrics.items()}}
    write_text(folder.join(EVALUATION), json.dumps(evaluation, indent=1))
    log_test_metrics(folder.join("logs"), evaluation["metrics"], steps)
    return evaluation


def main(argv=None):
    options = parse_args(argv)
    recipe = importlib.import_module(f"kgan.recipes.{options.recipe}").RECIPE
    evaluation = evaluate_run(options.run, recipe,
                              options.qualitative_dir or os.path.join(options.run, "qualitative_inputs"),
                              options.qualitative, options.eval_images, options.feature_extractor)
    print(json.dumps(evaluation["metrics"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(run_reporting_errors(main, sys.argv[1:]))
