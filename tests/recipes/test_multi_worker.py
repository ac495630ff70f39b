"""Multi-worker training: two worker processes on 127.0.0.1 under TF_CONFIG train a tiny pix2pix
with MultiWorkerMirroredStrategy through the recipe, as users would on two machines.

Both workers must end with the same weights, equal to one process training on the same global
batch; only the chief writes the run folder; resuming, both start from the chief's checkpoint.
The networks use instance norm and no dropout, so that splitting the batch over two replicas
changes nothing but float32 round-off.
"""

import json
import os
import random
import socket
import subprocess
import sys
import textwrap

import numpy as np
import pytest

WORKER = textwrap.dedent("""
    import functools, json, os, sys
    import numpy as np
    out = os.path.abspath(sys.argv[2])
    written = []

    def audit(event, args):
        # Python-level writes of this process under the run folder.
        if event not in ("open", "os.rename", "os.mkdir", "os.remove") or not args:
            return
        path = args[1] if event == "os.rename" else args[0]
        if not isinstance(path, (str, os.PathLike)):
            return
        if event == "open":
            mode, flags = args[1], args[2]
            if mode:
                writes = any(c in mode for c in "wax+")
            else:
                writes = bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
            if not writes:
                return
        if os.path.abspath(os.fspath(path)).startswith(out + os.sep):
            written.append(os.fspath(path))

    sys.addaudithook(audit)
    from kgan.networks import unet_generator
    from kgan.recipes import pix2pix
    pix2pix.unet_generator = functools.partial(unet_generator, dropout=0.0)
    models = []
    build_and_keep = pix2pix.RECIPE.build_model
    networks = lambda m: m.generator.get_weights() + m.discriminator.get_weights()
    pix2pix.RECIPE.build_model = lambda *a: (
        models.append(build_and_keep(*a)) or np.savez(sys.argv[3] + ".initial.npz", *networks(models[-1]))
        or models[-1])
    assert pix2pix.main(json.loads(sys.argv[1])) == 0
    np.savez(sys.argv[3], *networks(models[-1]))
    print("WROTE", json.dumps(written))
""")


def free_ports(count):
    """`count` free ports on 127.0.0.1 below the ephemeral range (32768 and up on Linux),
    which `bind(0)` and outgoing connections never take: nothing else running (another
    pytest worker's servers) can grab them while TensorFlow's workers start."""
    ports = []
    for port in random.Random(os.getpid()).sample(range(20000, 32000), 200):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        ports.append(port)
        if len(ports) == count:
            return ports
    raise AssertionError("no free ports between 20000 and 32000")


def start(argv, out, weights, tmp, tf_config=None):
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="", TF_CPP_MIN_LOG_LEVEL="3", TMPDIR=str(tmp))
    env.pop("TF_CONFIG", None)
    if tf_config is not None:
        env["TF_CONFIG"] = json.dumps(tf_config)
    tmp.mkdir(exist_ok=True)
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, json.dumps(argv), str(out), str(weights)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def finish(process):
    try:
        stdout, stderr = process.communicate(timeout=600)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
    assert process.returncode == 0, stderr[-3000:]
    written = [json.loads(line[6:]) for line in stdout.splitlines() if line.startswith("WROTE ")]
    return stdout, written[-1]


def train_two_workers(argv, out, tmp_path, phase):
    ports = free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    workers = [
        start(argv, out, tmp_path / f"worker{i}_{phase}.npz", tmp_path / f"tmp{i}",
              {"cluster": cluster, "task": {"type": "worker", "index": i}})
        for i in range(2)
    ]
    return [finish(worker) for worker in workers]


def weights(path):
    with np.load(path) as arrays:
        return [arrays[key] for key in sorted(arrays.files, key=lambda k: int(k.split("_")[1]))]


def max_difference(a, b):
    return max(float(np.abs(x - y).max()) for x, y in zip(a, b, strict=True))


@pytest.mark.slow
def test_two_workers_equal_one_process_and_only_the_chief_writes(tmp_path, tiny_args):
    out, single_out = tmp_path / "run", tmp_path / "single"
    argv = lambda out, epochs: tiny_args("pix2pix", batch_size=4, norm="instance", epochs=epochs,
                                         precision="float32", out=out)
    # The one-process reference runs beside the workers (its own ports: none).
    single = start(argv(single_out, 1), single_out, tmp_path / "single.npz", tmp_path / "tmp_s")
    (chief_stdout, chief_written), (worker_stdout, worker_written) = train_two_workers(
        argv(out, 1), out, tmp_path, phase=1)
    finish(single)

    assert "training on 2 workers, 2 replicas (MultiWorkerMirroredStrategy)" in chief_stdout
    chief, worker = weights(tmp_path / "worker0_1.npz"), weights(tmp_path / "worker1_1.npz")
    reference = weights(tmp_path / "single.npz")
    assert max_difference(chief, worker) == 0.0  # all-reduced gradients: bitwise the same
    # Two replicas sum two half-batch gradients where one process takes the whole batch:
    # they agree to float32 round-off, far below what the two Adam steps moved (2 x lr =
    # 4e-4 per weight, the largest change of each step).
    assert max_difference(chief, reference) < 1e-5
    initial = weights(tmp_path / "single.npz.initial.npz")
    assert max_difference(weights(tmp_path / "worker0_1.npz.initial.npz"), initial) == 0.0
    assert max_difference(reference, initial) > 1e-4

    # Only the chief wrote the run folder; the other worker's temporary folder is gone.
    assert chief_written and worker_written == []
    assert f"wrote {out}:" in chief_stdout and f"wrote {out}:" not in worker_stdout
    assert os.listdir(tmp_path / "tmp1") == []
    assert {"config.toml", "history.csv", "generator.keras", "checkpoints"} <= set(os.listdir(out))

    # A second command resumes both workers from the chief's checkpoint after epoch 1.
    (chief_stdout, _), (worker_stdout, worker_written) = train_two_workers(
        argv(out, 2), out, tmp_path, phase=2)
    assert f"resuming {out} " in chief_stdout  # from the checkpoint after epoch 1
    assert worker_written == []
    assert max_difference(weights(tmp_path / "worker0_2.npz"), weights(tmp_path / "worker1_2.npz")) == 0.0
    with open(out / "history.csv") as f:
        assert [line.split(",")[0] for line in f.read().splitlines()[1:]] == ["0", "1"]
