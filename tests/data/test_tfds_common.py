"""Manual archives that cannot be prepared: one line, and nothing left half-prepared."""

import io
import tarfile

import numpy as np
import pytest
from PIL import Image

from kgan.data.tfds_pix2pix import pix2pix_builder
from kgan.errors import KganError


def _archive_bytes():
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for split in ("train", "val", "test"):
            for i in range(2):
                image = io.BytesIO()
                Image.fromarray(np.full((16, 32, 3), 40 * i, np.uint8)).save(image, "PNG")
                info = tarfile.TarInfo(f"facades/{split}/{i}.png")
                info.size = image.tell()
                image.seek(0)
                tar.addfile(info, image)
    return buffer.getvalue()


@pytest.mark.parametrize("damage", ["junk", "truncated"])
def test_a_damaged_manual_archive_is_one_line_and_leaves_nothing(tmp_path, damage):
    manual = tmp_path / "tfds" / "downloads" / "manual"
    manual.mkdir(parents=True)
    good = _archive_bytes()
    data = np.random.default_rng(0).bytes(5000) if damage == "junk" else good[:len(good) // 2]
    (manual / "facades.tar.gz").write_bytes(data)
    with pytest.raises(KganError) as error:
        pix2pix_builder("facades", str(tmp_path / "tfds"))
    message = str(error.value)
    assert "\n" not in message and "facades.tar.gz" in message
    assert "damaged" in message
    leftovers = [p for p in (tmp_path / "tfds").rglob("*")
                 if "incomplete" in p.name or ".tmp." in p.name]
    assert leftovers == []
