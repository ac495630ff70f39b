"""Where a recipe trains: one device, several GPUs (MirroredStrategy) or the workers a
`TF_CONFIG` names (MultiWorkerMirroredStrategy); which process writes the run's files; and
the training data split batch by batch over the workers."""

import contextlib
import json
import os
import tempfile

import tensorflow as tf

from kgan.errors import ConfigError


def training_devices():
    """Names of the GPUs visible to TensorFlow (none on a CPU-only machine)."""
    return [device.name for device in tf.config.list_logical_devices("GPU")]


def cluster_workers():
    """The workers (and chief) that `TF_CONFIG` names, 0 without TF_CONFIG.

    Raises:
        ConfigError: TF_CONFIG is not JSON of the form {"cluster": {"worker": [...], ...},
            "task": {...}}.
    """
    text = os.environ.get("TF_CONFIG") or "{}"
    form = ('{"cluster": {"worker": ["host:port", ...]}, "task": {"type": "worker", '
            '"index": 0}}')
    try:
        config = json.loads(text)
    except ValueError as error:
        raise ConfigError(f"TF_CONFIG is not valid JSON ({error}): set it to {form}, or unset "
                          "it to train in one process") from None
    spec = config.get("cluster", {}) if isinstance(config, dict) else None
    if not isinstance(spec, dict) or not all(
            isinstance(spec.get(kind, []), list) for kind in ("chief", "worker")):
        raise ConfigError(f"TF_CONFIG {text[:80]!r} is not of the form {form}: fix it, or unset "
                          "it to train in one process")
    return sum(len(spec.get(kind, ())) for kind in ("chief", "worker"))


def distribution_strategy():
    """The strategy a recipe trains under.

    MultiWorkerMirroredStrategy when `TF_CONFIG` names a cluster of several workers (each
    worker runs the same command; every GPU of every worker, or its CPU, holds a replica);
    else MirroredStrategy over all GPUs when there are several; else the default strategy.
    Call it before anything else runs TensorFlow operations: a multi-worker strategy must
    configure TensorFlow's runtime first. Build and compile the model under
    `strategy.scope()`; `--batch-size` stays the global batch, split evenly over the
    replicas, so it must be a multiple of their number.
    """
    workers = cluster_workers()
    if workers > 1:
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
        print(f"training on {workers} workers, {strategy.num_replicas_in_sync} replicas "
              "(MultiWorkerMirroredStrategy); --batch-size is the global batch")
        return strategy
    devices = training_devices()
    if len(devices) < 2:
        return tf.distribute.get_strategy()
    print(f"training on {len(devices)} devices (MirroredStrategy); --batch-size is the global "
          "batch")
    return tf.distribute.MirroredStrategy(devices)


def shard_by_batch(dataset):
    """`dataset` with each global batch split over the workers of a multi-worker run.

    tf.data's default (AUTO) would give each worker its own files, so that the batches, and
    the training, would depend on the worker count; split batch by batch, every worker runs
    the same seeded pipeline and the run trains as one process would on the global batch.
    """
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def check_batch_size(options, strategy):
    """Raise ConfigError for a --batch-size the replicas cannot split evenly."""
    replicas = strategy.num_replicas_in_sync
    if options.batch_size % replicas:
        raise ConfigError(f"--batch-size {options.batch_size} is the global batch: it must be a "
                          f"multiple of the {replicas} replicas")


def is_chief(strategy):
    """Whether this process writes the run's files: always, except on the workers of a
    multi-worker run other than the chief (task "chief", or worker 0 without one)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or resolver.task_type is None:
        return True
    if resolver.task_type == "chief":
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return resolver.task_type == "worker" and resolver.task_id == 0 and not has_chief


@contextlib.contextmanager
def writable_folder(path, chief):
    """Yield where this worker writes what would go to `path`: `path` itself on the chief,
    a temporary folder, deleted afterwards, on the other workers.

    The other workers still write (checkpoints, saved models) so that they take part in the
    collective operations saving may involve, as Keras' multi-worker guide prescribes; their
    files are thrown away.
    """
    if chief:
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="kgan_worker_") as folder:
        yield os.path.join(folder, os.path.basename(os.path.normpath(path)) or "run")
