"""The callbacks a recipe trains with, in the order Keras must call them: the divergence
guard, `--eval-every`'s metrics, the history CSV, the sample and TensorBoard writers, and the
checkpoints of the run folder."""

import sys

from kgan.callbacks import FiniteLossGuard, HistoryCSV, ImageMetricsCallback, ResumableCheckpoint
from kgan.errors import KganError
from kgan.metrics.evaluation import EVAL_BATCH_SIZE
from kgan.metrics.inception import inception_feature_extractor
from kgan.recipes.options import MIN_EVAL_IMAGES
from kgan.run_folder import config_values


def metrics_callbacks(options, dataset, generator, paired):
    """The `--eval-every` callback as a list: empty when off or when it cannot run.

    Without the FID Inception weights, or with a held-out split too small, this prints one
    warning line and the run trains without evaluation rather than failing.

    Args:
        options: parsed options with `eval_every` and `eval_images`.
        dataset: the held-out (inputs, targets) batches, in a fixed order.
        generator: the network to evaluate.
        paired: the targets are the inputs' ground truth (adds PSNR/SSIM).

    Returns:
        list: `[ImageMetricsCallback]` or `[]`.
    """
    if not options.eval_every:
        return []
    images = dataset.unbatch().take(options.eval_images)
    count = int(images.reduce(0, lambda n, _: n + 1))
    if count < MIN_EVAL_IMAGES:
        print(f"warning: training without --eval-every: the held-out split has {count} images, "
              f"precision/recall need at least {MIN_EVAL_IMAGES}", file=sys.stderr)
        return []
    try:
        # Loaded now, not at the first evaluation, so missing weights show before training.
        extractor = inception_feature_extractor("fid")  # float32 features, whatever the training
    except KganError as error:
        print(f"warning: training without --eval-every: {error}", file=sys.stderr)
        return []
    print(f"eval: {count} held-out images every {options.eval_every} epoch(s) "
          "(float32 features, inference protocol)")
    return [ImageMetricsCallback(images.batch(EVAL_BATCH_SIZE), options.eval_every,
                                 feature_extractor=extractor, generator=generator,
                                 paired=paired)]


def run_folder_callbacks(folder, metrics, options, steps_per_epoch, initial_step=0,
                         epoch_means=None, writers=()):
    """The divergence guard, then the `metrics` callbacks, the history CSV, the `writers`
    and the checkpoints of a `RunFolder`. Keras calls callbacks in order: the guard stops a
    diverged step before anything is written, the history rows and checkpoints see the
    metrics' keys, and an epoch's checkpoint comes after all it writes (its row, the
    writers' sample grids), so that a run killed before them redoes them.

    Args:
        options: parsed options with `--max-loss` and the `--checkpoint-*` and
            `--keep-checkpoints` values.
        steps_per_epoch, initial_step: the run's full epoch and the steps done before.
        epoch_means: the resumed checkpoint's running loss means (`Checkpoint.epoch_means`).
        writers: callbacks writing each epoch's files (sample grids, TensorBoard logs).
    """
    extra_keys = [key for callback in metrics for key in callback.log_keys]
    return [
        FiniteLossGuard(steps_per_epoch, initial_step, max_loss=options.max_loss),
        *metrics,
        HistoryCSV(folder.history, extra_keys=extra_keys),
        *writers,
        ResumableCheckpoint(folder.checkpoints, steps_per_epoch, initial_step,
                            every_steps=options.checkpoint_steps,
                            every_minutes=options.checkpoint_minutes,
                            keep=options.keep_checkpoints, epoch_means=epoch_means,
                            options=config_values(options)),
    ]
