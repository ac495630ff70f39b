"""Score generated images: FID, precision/recall and, for pairs, PSNR/SSIM (`python -m kgan.evaluate`).

Usage:
    python -m kgan.evaluate --generated DIR (--reference DIR | --data-dir DIR [--split test])
    python -m kgan.evaluate --model G.keras --data-dir DIR [--split test] [--direction AtoB]
    python -m kgan.evaluate --model G.keras --dataset bluemarble [--image-size 256]
    python -m kgan.evaluate --model G.keras --inputs DIR --reference DIR

`--data-dir` is the pix2pix layout (DIR/SPLIT/*.jpg, each A|B side by side): its target
halves (B for AtoB, A for BtoA) are the real images. `--dataset` names a paired set that
kgan provides (the built-in bluemarble, or a pix2pix set prepared through TFDS). With `--model` the input halves are
translated and each output is compared with its own target (paired: PSNR and SSIM too);
`--generated` files are paired with data files of the same base name when every one has a
match. Prints one JSON line; non-finite numbers (PSNR of identical images) print as null.
Images are read batch by batch, so large sets never sit in memory.
"""

import argparse
import json
import math
import os
import sys

import numpy as np
import tensorflow as tf

from kgan.cli import load_keras_model, positive_int, run_reporting_errors
from kgan.data import folders, paired_source, prepare_pairs
from kgan.data.paired import BUILT_IN, DOWNLOADABLE
from kgan.errors import KganError
from kgan.metrics.evaluation import ImageSetMetrics



def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m kgan.evaluate",
                                     description=__doc__.splitlines()[0])
    fake = parser.add_mutually_exclusive_group(required=True)
    fake.add_argument("--generated", metavar="DIR", help="folder of generated images")
    fake.add_argument("--model", metavar="FILE.keras", help="generator saved with keras")
    real = parser.add_mutually_exclusive_group(required=True)
    real.add_argument("--data-dir", metavar="DIR", help="pix2pix layout: DIR/SPLIT/*.jpg, A|B")
    real.add_argument("--reference", metavar="DIR", help="folder of real images")
    real.add_argument("--dataset", choices=BUILT_IN + DOWNLOADABLE,
                      help="named paired set (with --model): bluemarble, facades, ...")
    parser.add_argument("--image-size", type=positive_int,
                        help="with --model: translate and score pairs resized to this square "
                             "size, e.g. the training size (default: --dataset 256, --data-dir "
                             "as stored)"),
    parser.add_argument("--tfds-dir", help="with --dataset: TFDS data dir of the named sets")
    parser.add_argument("--split", default="test", help="split of --data-dir (default: test)")
    parser.add_argument("--direction", choices=["AtoB", "BtoA"], default="AtoB",
                        help="AtoB: A (left half) is the input, B the target (default)")
    parser.add_argument("--inputs", metavar="DIR",
                        help="with --model and --reference: images to translate")
    parser.add_argument("--feature-extractor", default="fid", metavar="NAME_OR_FILE",
                        help="fid (default), imagenet, or a .weights.h5 file of the FID network")
    parser.add_argument("--batch-size", type=positive_int, default=50)
    parser.add_argument("--k", type=positive_int, default=3,
                        help="nearest neighbours for precision/recall (default: 3)")
    parser.add_argument("--fid-method", choices=["eigh", "sqrtm"], default="eigh",
                        help="trace of the covariance square root: eigh (default, fast) or "
                             "sqrtm (TTUR's scipy.linalg.sqrtm; ~20x slower at 2048 dims)")
    parser.add_argument("--no-precision-recall", action="store_true",
                        help="FID (and PSNR/SSIM) only: no feature vectors kept in memory")
    args = parser.parse_args(argv)
    if args.model and args.reference and not args.inputs:
        parser.error("--model with --reference needs --inputs DIR (the images to translate)")
    if args.dataset and not args.model:
        parser.error("--dataset goes with --model (score a generator on that set)")
    if args.inputs and not (args.model and args.reference):
        parser.error("--inputs only goes with --model and --reference")
    if args.feature_extractor not in ("fid", "imagenet") and not os.path.isfile(args.feature_extractor):
        parser.error(f"--feature-extractor: {args.feature_extractor} is neither fid, imagenet "
                     "nor an existing .weights.h5 file")
    return args


def list_images(folder):
    """Sorted image files of `folder`. Raises KganError if it is missing or has none."""
    if not os.path.isdir(folder):
        raise KganError(f"no such folder: {folder}")
    files = folders.list_images(folder)
    if not files:
        raise KganError(f"no {'/'.join(folders.IMAGE_EXTENSIONS)} images in {folder}")
    return files


def read_image(path):
    """float32 [H, W, 3] in [-1, 1] (greyscale and RGBA become RGB)."""
    try:
        data = tf.io.read_file(path)
        image = tf.io.decode_image(data, channels=3, expand_animations=False)
    except (tf.errors.InvalidArgumentError, tf.errors.NotFoundError) as error:
        raise KganError(f"cannot decode {path}: {error.message.splitlines()[0]}") from None
    return tf.cast(image, tf.float32).numpy() / 127.5 - 1.0


def split_pair(image, direction):
    """An A|B side-by-side image -> (input, target) halves for `direction`."""
    half = image.shape[1] // 2
    a, b = image[:, :half], image[:, half:2 * half]
    return (a, b) if direction == "AtoB" else (b, a)


def batches(items, batch_size):
    """Consecutive runs of `items` (each a tuple of same-shaped arrays), stacked per field.

    A run ends at `batch_size` items or where the image size changes (sizes may differ
    between images; the feature extractor resizes each to 299x299 itself).
    """
    run = []
    for item in items:
        if run and (len(run) == batch_size or item[0].shape != run[0][0].shape):
            yield tuple(np.stack(field) for field in zip(*run))
            run = []
        run.append(item)
    if run:
        yield tuple(np.stack(field) for field in zip(*run))


def translate(generator, inputs, targets=None):
    """Run the generator; inputs (and targets) resized to a fixed model input size if needed."""
    size = tuple(generator.input_shape[1:3]) if hasattr(generator, "input_shape") else (None, None)
    if None not in size and inputs.shape[1:3] != size:
        inputs = tf.image.resize(inputs, size, method="bilinear", antialias=True).numpy()
    try:
        outputs = np.asarray(generator(inputs, training=False), np.float32)
    except (ValueError, tf.errors.InvalidArgumentError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise KganError(f"the model cannot translate images of shape {inputs.shape[1:]}: "
                        f"{reason}") from None
    if targets is not None and targets.shape[1:3] != outputs.shape[1:3]:
        targets = tf.image.resize(targets, outputs.shape[1:3], antialias=True).numpy()
    return outputs, targets


def _paired_batches(options):
    """(inputs, targets) float32 batches in [-1, 1] of --data-dir or --dataset."""
    if options.data_dir:
        files = list_images(os.path.join(options.data_dir, options.split))
        pairs = (split_pair(read_image(f), options.direction) for f in files)
        if options.image_size:
            shape = [options.image_size] * 2  # as the data pipeline resizes
            pairs = (tuple(tf.image.resize(image, shape, antialias=True).numpy() for image in pair)
                     for pair in pairs)
        return batches(pairs, options.batch_size)
    size = options.image_size or 256
    source = paired_source(options.dataset, options.split, image_size=size,
                           tfds_dir=options.tfds_dir)
    return prepare_pairs(source, size, options.batch_size, options.direction).as_numpy_iterator()


def _evaluate(options):
    metrics = ImageSetMetrics(options.feature_extractor, k=options.k,
                              batch_size=options.batch_size,
                              precision_recall=not options.no_precision_recall,
                              fid_method=options.fid_method)
    if options.model:
        generator = load_keras_model(options.model)
        if options.data_dir or options.dataset:
            for inputs, targets in _paired_batches(options):
                outputs, targets = translate(generator, inputs, targets)
                metrics.update_fake(outputs)
                metrics.update_real(targets)
                metrics.update_pairs(targets, outputs)
        else:
            images = ((read_image(f),) for f in list_images(options.inputs))
            for (inputs,) in batches(images, options.batch_size):
                metrics.update_fake(translate(generator, inputs)[0])
    else:
        generated = list_images(options.generated)
        if options.data_dir:
            _score_generated_against_data(metrics, generated, options)
        else:
            for (images,) in batches(((read_image(f),) for f in generated), options.batch_size):
                metrics.update_fake(images)
    if options.reference:
        for (images,) in batches(((read_image(f),) for f in list_images(options.reference)),
                                 options.batch_size):
            metrics.update_real(images)
    return metrics.result()


def _stem(path):
    return os.path.splitext(os.path.basename(path))[0]


def _score_generated_against_data(metrics, generated, options):
    """Generated files vs the data split's targets; paired by base name when all match.

    The real set is every target of the split, also where only some files were generated.
    """
    data_files = list_images(os.path.join(options.data_dir, options.split))
    by_stem = {_stem(f): f for f in data_files}
    if all(_stem(f) in by_stem for f in generated):
        items = ((read_image(f), split_pair(read_image(by_stem[_stem(f)]), options.direction)[1])
                 for f in generated)
        for fakes, targets in batches(items, options.batch_size):
            if targets.shape != fakes.shape:
                targets = tf.image.resize(targets, fakes.shape[1:3], antialias=True).numpy()
            metrics.update_pairs(targets, fakes)
            metrics.update_fake(fakes)
    else:
        for (fakes,) in batches(((read_image(f),) for f in generated), options.batch_size):
            metrics.update_fake(fakes)
    targets = ((split_pair(read_image(f), options.direction)[1],) for f in data_files)
    for (images,) in batches(targets, options.batch_size):
        metrics.update_real(images)


def _report(results):
    """One JSON line: fid, precision, recall, [psnr, ssim], num_generated, num_reference."""
    out = {key: results[key] for key in ("fid", "precision", "recall", "psnr", "ssim")
           if key in results}
    out["num_generated"] = results["num_fake"]
    out["num_reference"] = results["num_real"]
    if results["num_pairs"]:
        out["num_pairs"] = results["num_pairs"]
    return json.dumps({k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                       for k, v in out.items()})


def main(argv=None):
    """Run the command line; returns the exit status (0, 1 for a failed run, 2 for bad args)."""
    try:
        options = parse_args(argv)
    except SystemExit as exit_:  # argparse: usage line already printed, status 2
        return exit_.code
    return run_reporting_errors(_print_report, options)


def _print_report(options):
    print(_report(_evaluate(options)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
