"""The precision policy: which Keras dtype policy a run computes in, its default on this
machine (CPU flags or GPU compute capability), and a scope that applies it.

Training, evaluation, export and the benchmarks all import it from here; it depends on no
other kgan module but the errors.
"""

import contextlib
import functools

import keras
import tensorflow as tf

from kgan.errors import ConfigError

# Keras dtype policies a run may train under: float32 everywhere, or float32 weights with
# bfloat16 / float16 compute. Losses, metrics, the generators' tanh outputs and the
# discriminators' logits stay float32 under all three.
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")
# Compute capability from which NVIDIA GPUs have bfloat16 tensor cores (Ampere).
BFLOAT16_COMPUTE_CAPABILITY = (8, 0)


@functools.cache
def cpu_has_bfloat16(cpuinfo="/proc/cpuinfo"):
    """Whether this CPU computes bfloat16 natively (x86 avx512_bf16 or AMX), read from the
    flags in `cpuinfo`; False when they cannot be read (not Linux)."""
    try:
        with open(cpuinfo) as f:
            flags = next((line.split(":", 1)[1].split() for line in f
                          if line.startswith("flags")), [])
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def default_precision():
    """The fastest precision that trains as well as float32 on this machine.

    mixed_bfloat16 on GPUs with bfloat16 tensor cores (compute capability 8.0 and up) and on
    CPUs with native bfloat16; float32 elsewhere, where bfloat16 is emulated and slower.
    mixed_float16 is never the default: it needs loss scaling and is slower on CPUs.
    """
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        capability = tuple(details.get("compute_capability") or (0, 0))
        return "mixed_bfloat16" if capability >= BFLOAT16_COMPUTE_CAPABILITY else "float32"
    return "mixed_bfloat16" if cpu_has_bfloat16() else "float32"


def resolve_precision(name):
    """`name` (one of PRECISIONS, or "auto") with "auto" replaced by `default_precision()`."""
    return default_precision() if name == "auto" else name


@contextlib.contextmanager
def precision_policy(name):
    """Run the block under the Keras dtype policy `name` (one of PRECISIONS); restore the
    old one after.

    Networks built inside compute in that dtype with float32 weights; optimizers built by
    `build_optimizer` under mixed_float16 get loss scaling (bfloat16 has float32's exponent
    range and needs none).
    """
    if name not in PRECISIONS:
        raise ConfigError(f"unknown precision {name!r}: use one of {', '.join(PRECISIONS)}")
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)
