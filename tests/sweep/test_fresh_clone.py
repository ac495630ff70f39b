"""The README's CPU facades sweep command on a fresh clone: no ../shared, no network, the
facades archive in the TFDS manual folder."""

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CLOSED = "http://127.0.0.1:9/"  # the discard port: nothing listens, connections fail at once
TINY = ["epochs=1", "steps-per-epoch=2", "decay-epochs=0", "image-size=32", "base-filters=8",
        "batch-size=2", "eval-every=0"]


def readme_command(grid):
    """The README's `python -m kgan.sweep <grid> ...` line, as an argument list."""
    readme = (REPO / "README.md").read_text()
    (line,) = [line for line in readme.splitlines() if f"-m kgan.sweep {grid}" in line]
    argv = shlex.split(line.split("#")[0])
    assert argv[0].endswith("python"), line
    return [sys.executable, *argv[1:]]


def facades_archive(path, facades_dir, counts=(("train", 4), ("val", 2), ("test", 4))):
    """facades.tar.gz in the published layout facades/<split>/<n>.jpg, a few real files."""
    path.parent.mkdir(parents=True)
    with tarfile.open(path, "w:gz") as tar:
        for split, count in counts:
            for file in sorted((facades_dir / split).glob("*.jpg"))[:count]:
                tar.add(file, arcname=f"facades/{split}/{file.name}")


def lines(path):
    try:
        return path.read_text().splitlines()
    except FileNotFoundError:
        return []


def test_readme_facades_sweep_trains_offline_from_the_manual_folder(tmp_path, facades_dir):
    clone = tmp_path / "clone"  # tmp_path has no shared/ beside the clone
    for folder in ("kgan", "recipes"):
        shutil.copytree(REPO / folder, clone / folder,
                        ignore=shutil.ignore_patterns("__pycache__"))
    tfds_dir = tmp_path / "tensorflow_datasets"
    facades_archive(tfds_dir / "downloads" / "manual" / "facades.tar.gz", facades_dir)
    proxies = {key: CLOSED for key in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY")}
    env = dict(os.environ, PYTHONPATH=str(clone), TFDS_DATA_DIR=str(tfds_dir),
               KGAN_PIX2PIX_URL=CLOSED, TF_CPP_MIN_LOG_LEVEL="3", no_proxy="", NO_PROXY="",
               **proxies)
    command = readme_command("recipes/study_pix2pix_facades_cpu.toml")
    out = Path(clone, command[command.index("--out") + 1])
    command += [arg for option in TINY for arg in ("--set", option)] + ["--seeds", "0"]
    sweep = subprocess.Popen(command, cwd=clone, env=env, start_new_session=True,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    history = out / "runs" / "l1" / "seed0" / "history.csv"
    deadline = time.monotonic() + 600
    try:
        while (len(lines(history)) < 2 and sweep.poll() is None
               and time.monotonic() < deadline):
            time.sleep(0.5)
    finally:
        if sweep.poll() is None:
            os.killpg(sweep.pid, signal.SIGKILL)
        output = sweep.communicate()[0]
    log = (out / "logs" / "l1_seed0.log").read_text()
    # One epoch trained: history.csv's header and its row.
    assert len(lines(history)) == 2, output[-2000:] + log[-3000:]
    assert "g_loss" in lines(history)[0]
    assert re.search(r"data: 4 training pairs, 2 validation pairs", log), log[-3000:]
    assert (tfds_dir / "pix2pix" / "facades").is_dir()
