"""Score generated images: FID, KID, precision/recall and, for pairs, PSNR/SSIM (`python -m kgan.evaluate`).

Usage:
    python -m kgan.evaluate --generated DIR (--reference DIR | --data-dir DIR [--split test])
    python -m kgan.evaluate --model G.keras --data-dir DIR [--split test] [--direction AtoB]
    python -m kgan.evaluate --model G.keras --dataset bluemarble [--image-size 256]
    python -m kgan.evaluate --model G.keras --inputs DIR --reference DIR

`--data-dir` is a paired folder read as the recipes read it (`kgan.data.folders`): the
pix2pix layout DIR/SPLIT/*.jpg (each A|B side by side), or DIR/A/SPLIT/ and DIR/B/SPLIT/
matched by file name. Its targets (B for AtoB, A for BtoA) are the real images.
`--dataset` names a paired set that kgan provides (the built-in bluemarble, or a pix2pix
set prepared through TFDS). With `--model` the inputs are translated and each output is
compared with its own target (paired: PSNR and SSIM too); `--generated` files are paired
with the data's pairs of the same base name when every one has a match. Prints one JSON
line (what the data reader reports goes to stderr) with the scores and how they were
measured: the features' precision (float32 unless `--precision` says otherwise), the image
counts and, with `--model`, the test protocol (`--protocol`, see `kgan.metrics.protocol`;
null for given images). Non-finite numbers (PSNR of identical images, KID's spread with one
block) print as null. Images are read batch by batch, so large sets never sit in memory.
"""

import argparse
import contextlib
import json
import math
import os
import sys

import keras
import numpy as np
import tensorflow as tf

from kgan.cli import load_keras_model, positive_int, run_reporting_errors
from kgan.data import folders
from kgan.data.paired import BUILT_IN, DIRECTIONS, DOWNLOADABLE, paired_source, prepare_pairs
from kgan.data.transforms import to_float
from kgan.errors import KganError
from kgan.metrics.evaluation import ImageSetMetrics
from kgan.metrics.image_quality import SSIM_WINDOW
from kgan.metrics.inception import FEATURE_PRECISION
from kgan.metrics.protocol import PROTOCOLS, generate
from kgan.metrics.registry import keys
from kgan.precision import PRECISIONS


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m kgan.evaluate",
                                     description=__doc__.splitlines()[0])
    fake = parser.add_mutually_exclusive_group(required=True)
    fake.add_argument("--generated", metavar="DIR", help="folder of generated images")
    fake.add_argument("--model", metavar="FILE.keras", help="generator saved with keras")
    real = parser.add_mutually_exclusive_group(required=True)
    real.add_argument("--data-dir", metavar="DIR",
                      help="paired folder: DIR/SPLIT/*.jpg (A|B), or DIR/A/SPLIT + DIR/B/SPLIT")
    real.add_argument("--reference", metavar="DIR", help="folder of real images")
    real.add_argument("--dataset", choices=BUILT_IN + DOWNLOADABLE,
                      help="named paired set (with --model): bluemarble, facades, ...")
    parser.add_argument("--image-size", type=positive_int,
                        help="with --model: translate and score pairs resized to this square "
                             "size, e.g. the training size (default: --dataset 256, --data-dir "
                             "as stored)")
    parser.add_argument("--tfds-dir", help="with --dataset: TFDS data dir of the named sets")
    parser.add_argument("--split", default="test", help="split of --data-dir (default: test)")
    parser.add_argument("--direction", choices=DIRECTIONS, default="AtoB",
                        help="AtoB: A (left half, or A/) is the input, B the target (default)")
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
    parser.add_argument("--precision", default=FEATURE_PRECISION, choices=PRECISIONS,
                        help="dtype policy of the feature extractor (default float32, the "
                        "standard; mixed_bfloat16 is about 2x faster on CPUs with bfloat16 and "
                        "moves FID by about 0.3)")
    parser.add_argument("--protocol", choices=PROTOCOLS, default="inference",
                        help="with --model: inference (default: dropout off, moving batch-norm "
                        "statistics, as exports run) or paper (dropout on and batch statistics, "
                        "one image per call, as pix2pix's paper and test script)")
    parser.add_argument("--no-precision-recall", action="store_true",
                        help="FID (and PSNR/SSIM) only: no KID or precision/recall, so no "
                        "feature vectors kept in memory")
    args = parser.parse_args(argv)
    if args.model and args.reference and not args.inputs:
        parser.error("--model with --reference needs --inputs DIR (the images to translate)")
    if args.dataset and not args.model:
        parser.error("--dataset goes with --model (score a generator on that set)")
    if args.image_size and args.image_size < SSIM_WINDOW:
        parser.error(f"--image-size must be at least {SSIM_WINDOW} (SSIM's window), "
                     f"got {args.image_size}")
    if args.inputs and not (args.model and args.reference):
        parser.error("--inputs only goes with --model and --reference")
    if args.feature_extractor not in ("fid", "imagenet") and not os.path.isfile(args.feature_extractor):
        parser.error(f"--feature-extractor: {args.feature_extractor} is neither fid, imagenet "
                     "nor an existing .weights.h5 file")
    return args


def read_image(path):
    """float32 [H, W, 3] in [-1, 1] (greyscale and RGBA become RGB); KganError if unreadable."""
    return to_float(folders.read_image(path)).numpy()


def read_images(paths, batch_size):
    """Batches `(images,)` of the image files in `paths` (a folder, or a list of files)."""
    return batches(((read_image(f),) for f in folders.image_files(paths)), batch_size)


def directed(pairs, direction):
    """uint8 `(a, b)` pairs -> float32 `(input, target)` pairs in [-1, 1] for `direction`."""
    for a, b in pairs:
        inputs, targets = (a, b) if direction == "AtoB" else (b, a)
        yield to_float(inputs).numpy(), to_float(targets).numpy()


def batches(items, batch_size):
    """Consecutive runs of `items` (each a tuple of same-shaped arrays), stacked per field.

    A run ends at `batch_size` items or where an image size changes (sizes may differ
    between images, and between the two sides of a pair; the feature extractor resizes
    each to 299x299 itself).
    """
    run = []
    for item in items:
        resized = run and any(x.shape != y.shape for x, y in zip(item, run[0]))
        if run and (len(run) == batch_size or resized):
            yield tuple(np.stack(field) for field in zip(*run))
            run = []
        run.append(item)
    if run:
        yield tuple(np.stack(field) for field in zip(*run))


def translate(generator, inputs, targets=None, protocol="inference"):
    """Run the generator under a test protocol (`kgan.metrics.protocol`); inputs (and
    targets) resized to a fixed model input size if needed.

    Args:
        inputs, targets: float32 [N, H, W, 3] in [-1, 1].

    Returns:
        (outputs, targets): float32 [N, H', W', 3]; targets resized to the outputs' size.
    """
    size = tuple(generator.input_shape[1:3]) if hasattr(generator, "input_shape") else (None, None)
    if None not in size and inputs.shape[1:3] != size:
        inputs = tf.image.resize(inputs, size, method="bilinear", antialias=True).numpy()
    try:
        outputs = generate(generator, inputs, protocol)
    except (ValueError, tf.errors.InvalidArgumentError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise KganError(f"the model cannot translate images of shape {inputs.shape[1:]}: "
                        f"{reason}") from None
    if targets is not None and targets.shape[1:3] != outputs.shape[1:3]:
        targets = tf.image.resize(targets, outputs.shape[1:3], antialias=True).numpy()
    return outputs, targets


def _quiet_reader():
    """What the folder reader reports goes to stderr: stdout holds only the JSON line."""
    return contextlib.redirect_stdout(sys.stderr)


def _paired_batches(options):
    """(inputs, targets) float32 batches in [-1, 1] of --data-dir or --dataset."""
    if options.data_dir and not options.image_size:
        # As stored: sizes may differ between pairs, which `batches` allows and tf.data does not.
        with _quiet_reader():
            pairs = folders.paired_folder_pairs(options.data_dir, options.split)
        return batches(directed(pairs.as_numpy_iterator(), options.direction), options.batch_size)
    size = options.image_size or 256
    with _quiet_reader():
        source = paired_source(options.dataset, options.split, options.data_dir, image_size=size,
                               tfds_dir=options.tfds_dir)
    return prepare_pairs(source, size, options.batch_size, options.direction).as_numpy_iterator()


def _evaluate(options):
    metrics = ImageSetMetrics(options.feature_extractor, k=options.k,
                              batch_size=options.batch_size,
                              precision_recall=not options.no_precision_recall,
                              fid_method=options.fid_method, kid=not options.no_precision_recall,
                              feature_precision=options.precision)
    if options.model:
        # Dropout layers draw their seeds when the model loads: seeded, the paper protocol's
        # masks (and so its scores) are the same on every run.
        keras.utils.set_random_seed(0)
        generator = load_keras_model(options.model)
        if options.data_dir or options.dataset:
            for inputs, targets in _paired_batches(options):
                outputs, targets = translate(generator, inputs, targets, options.protocol)
                metrics.update_fake(outputs)
                metrics.update_real(targets)
                metrics.update_pairs(targets, outputs)
        else:
            for (inputs,) in read_images(options.inputs, options.batch_size):
                metrics.update_fake(translate(generator, inputs, protocol=options.protocol)[0])
    else:
        generated = folders.image_files(options.generated)
        if options.data_dir:
            _score_generated_against_data(metrics, generated, options)
        else:
            for (images,) in read_images(generated, options.batch_size):
                metrics.update_fake(images)
    if options.reference:
        for (images,) in read_images(options.reference, options.batch_size):
            metrics.update_real(images)
    results = metrics.result()
    results["protocol"] = options.protocol if options.model else None
    return results


def _score_generated_against_data(metrics, generated, options):
    """Generated files vs the data split's targets; paired by base name when all match.

    The real set is every target of the split, also where only some files were generated.
    """
    with _quiet_reader():
        data = folders.paired_folder_files(options.data_dir, options.split)

    def targets(files):
        pairs = folders.read_pairs(files).as_numpy_iterator()
        return (target for _, target in directed(pairs, options.direction))

    by_name = {name: (name, a, b) for name, a, b in data}
    if all(folders.stem(f) in by_name for f in generated):
        matched = targets([by_name[folders.stem(f)] for f in generated])
        items = ((read_image(f), target) for f, target in zip(generated, matched))
        for fakes, reals in batches(items, options.batch_size):
            if reals.shape != fakes.shape:
                reals = tf.image.resize(reals, fakes.shape[1:3], antialias=True).numpy()
            metrics.update_pairs(reals, fakes)
            metrics.update_fake(fakes)
    else:
        for (fakes,) in read_images(generated, options.batch_size):
            metrics.update_fake(fakes)
    for (images,) in batches(((target,) for target in targets(data)), options.batch_size):
        metrics.update_real(images)


def _report(results):
    """One JSON line: the metrics in the registry's order (`kid_std` after `kid`), then
    num_generated, num_reference, [num_pairs], feature_precision and protocol."""
    out = {}
    for key in keys():
        if key in results:
            out[key] = results[key]
        if key == "kid" and key in results:
            out["kid_std"] = results["kid_std"]
    out["num_generated"] = results["num_fake"]
    out["num_reference"] = results["num_real"]
    if results["num_pairs"]:
        out["num_pairs"] = results["num_pairs"]
    out["feature_precision"] = results["feature_precision"]
    out["protocol"] = results["protocol"]
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
