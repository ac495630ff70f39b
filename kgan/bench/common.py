"""What the benchmarks share: options, the dtype policy, timing, memory, and the JSON line."""

import json
import os
import platform
import resource
import time

import keras
import tensorflow as tf

from kgan.cli import positive_int
from kgan.precision import PRECISIONS, default_precision


def add_size_arguments(parser, image_size, batch_size, steps, warmup):
    """Add --image-size, --batch-size, --steps, --warmup (with these defaults) and --output.

    An `image_size` or `batch_size` of None leaves the option unset: the benchmark takes the
    recipe's value (`train`).
    """
    parser.add_argument("--image-size", type=positive_int, default=image_size,
                        help=f"square image size in pixels (default {_default(image_size)})")
    parser.add_argument("--batch-size", type=positive_int, default=batch_size,
                        help=f"images per batch (default {_default(batch_size)})")
    parser.add_argument("--steps", type=positive_int, default=steps,
                        help=f"timed steps (default {steps})")
    parser.add_argument("--warmup", type=positive_int, default=warmup,
                        help=f"untimed steps first, at least 1: tracing, XLA compilation and "
                        f"allocation happen there (default {warmup})")
    parser.add_argument("--output", metavar="FILE.jsonl",
                        help="also append the result line to this file")


def _default(value):
    return "the recipe's" if value is None else value


def add_precision_arguments(parser, jit_compile=True, default="auto"):
    """Add --precision (default `default`) and, where the benchmark compiles a Keras model,
    --jit-compile."""
    shown = f"auto: {default_precision()} on this machine" if default == "auto" else default
    parser.add_argument("--precision", default=default, choices=("auto",) + PRECISIONS,
                        help=f"Keras dtype policy of the networks (default {shown})")
    if jit_compile:
        parser.add_argument("--jit-compile", action="store_true",
                            help="compile(jit_compile=True): XLA; off by default, where Keras' "
                            "'auto' would turn XLA on whenever a GPU is present")


def time_steps(step, steps, warmup):
    """Call `step()` `warmup` times untimed, then `steps` times timed.

    `step` must return only once its work is done (e.g. by fetching a result to NumPy),
    otherwise the time measures dispatch, not computation.

    Returns:
        float: seconds taken by the timed calls.
    """
    for _ in range(warmup):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return time.perf_counter() - start


def rates(seconds, steps, batch_size, unit="step", units="steps"):
    """`{units}_per_s`, `images_per_s` and `ms_per_{unit}` of `steps` batches in `seconds`."""
    return {
        f"{units}_per_s": rounded(steps / seconds),
        "images_per_s": rounded(steps * batch_size / seconds),
        f"ms_per_{unit}": rounded(1000.0 * seconds / steps),
    }


def rounded(value, digits=4):
    """`value` to `digits` significant digits, as a float (keeps the JSON line short)."""
    return float(f"{value:.{digits}g}")


def gpus():
    """The visible GPUs (`tf.config.PhysicalDevice`s)."""
    return tf.config.list_physical_devices("GPU")


def reset_peak_memory():
    """Start a fresh GPU peak (the host RSS peak cannot be reset: it covers the process)."""
    if gpus():
        tf.config.experimental.reset_memory_stats("GPU:0")


def peak_memory():
    """Peak memory since `reset_peak_memory`, in MB.

    Returns:
        dict: `peak_memory_mb` (GPU:0's allocator peak when a GPU is present, else the
        host's), `peak_memory_of` ("GPU:0" or "host RSS") and `host_peak_rss_mb`, the
        process's peak resident set (TensorFlow's own libraries and, in one process, any
        earlier benchmark included).
    """
    # ru_maxrss is in kilobytes on Linux, bytes on macOS.
    scale = 1.0 if platform.system() == "Darwin" else 1024.0
    host = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20
    memory = {"peak_memory_mb": rounded(host), "peak_memory_of": "host RSS"}
    if gpus():
        gpu = tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20
        memory = {"peak_memory_mb": rounded(gpu), "peak_memory_of": "GPU:0"}
    memory["host_peak_rss_mb"] = rounded(host)
    return memory


def device_name():
    """What ran the benchmark: the GPU's name, else the CPU model and usable core count."""
    visible = gpus()
    if visible:
        name = tf.config.experimental.get_device_details(visible[0]).get("device_name", "GPU")
        return f"{name} x{len(visible)}" if len(visible) > 1 else name
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"CPU {_cpu_model()} ({cores} cores)"


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment():
    """Fields every result line ends with: device, Keras' backend and library versions."""
    versions = {"backend": keras.backend.backend(), "tensorflow": tf.__version__,
                "keras": keras.__version__}
    if keras.backend.backend() == "jax":
        import jax

        versions["jax"] = jax.__version__
    return {"device": device_name(), **versions}


def emit(result, output=None):
    """Print `result` as one JSON line and, with `output`, append it to that file."""
    # allow_nan=False: a NaN would make the line invalid JSON for every reader.
    line = json.dumps(result, allow_nan=False)
    print(line, flush=True)
    if output:
        folder = os.path.dirname(output)
        if folder:
            os.makedirs(folder, exist_ok=True)
        with open(output, "a") as f:
            f.write(line + "\n")
