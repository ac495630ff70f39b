"""TFDS's `cycle_gan/horse2zebra` through kgan, prepared from a manual-dir zip built at test
time from the real images in the published layout (horse2zebra/trainA/...)."""

import hashlib
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kgan.data.tfds_cycle_gan import cycle_gan_builder
from kgan.data.unpaired import cycle_gan_source
from kgan.errors import KganError

REPO = Path(__file__).resolve().parents[2]
HORSE2ZEBRA = REPO.parent / "shared" / "datasets" / "horse2zebra"  # gated by horse2zebra_dir
FOLDERS = ("trainA", "trainB", "testA", "testB")
GREY_TRAIN_B = {"226", "2341", "2361", "2757", "7503", "8008", "9726"}


@pytest.fixture(scope="module")
def horse2zebra_zip(tmp_path_factory, horse2zebra_dir):
    """`(tfds_dir, checksums_file)`: horse2zebra.zip in `<tfds_dir>/downloads/manual/`."""
    root = tmp_path_factory.mktemp("h2z_tfds")
    manual = root / "downloads" / "manual"
    manual.mkdir(parents=True)
    archive = manual / "horse2zebra.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:  # JPEGs: no point deflating
        for folder in FOLDERS:
            for path in sorted((HORSE2ZEBRA / folder).glob("*.jpg")):
                zf.write(path, f"horse2zebra/{folder}/{path.name}")
    data = archive.read_bytes()
    # Our zip is not byte-identical to the published one, whose sha256 TFDS registers:
    # list it in an extra checksums file, the way a user with a rebuilt archive would.
    checksums = root / "checksums.tsv"
    checksums.write_text(
        f"https://example.invalid/horse2zebra.zip\t{len(data)}\t{hashlib.sha256(data).hexdigest()}"
        "\thorse2zebra.zip\n"
    )
    return root, str(checksums)


def test_rebuilt_zip_without_registration_is_refused(horse2zebra_zip, tmp_path):
    root, _ = horse2zebra_zip
    with pytest.raises(KganError) as error:
        cycle_gan_builder("horse2zebra", str(tmp_path / "tfds"),
                                  manual_dir=str(root / "downloads" / "manual"))
    message = str(error.value)
    assert "horse2zebra.zip" in message and "wrong checksum" in message
    assert "a74d9d392eecca9966b51287a76ca126af473d9de4f3e8fc0e9cda08fa1730a1" in message
    assert not (tmp_path / "tfds" / "cycle_gan" / "horse2zebra" / "3.0.0").exists()


def test_horse2zebra_from_manual_dir(horse2zebra_zip, monkeypatch):
    root, checksums = horse2zebra_zip
    monkeypatch.setenv("KGAN_TFDS_CHECKSUMS", checksums)  # the documented override
    builder = cycle_gan_builder("horse2zebra", str(root))
    sizes = {s: builder.info.splits[s].num_examples for s in FOLDERS}
    assert sizes == {"trainA": 1067, "trainB": 1334, "testA": 120, "testB": 140}

    train_b = cycle_gan_source("horse2zebra", "B", "train", str(root))
    assert int(train_b.cardinality()) == 1334
    grey = {}
    for name in GREY_TRAIN_B:
        with Image.open(HORSE2ZEBRA / "trainB" / f"n02391049_{name}.jpg") as image:
            assert image.mode == "L"
            grey[name] = np.asarray(image.convert("RGB"), np.float32)
    closest = dict.fromkeys(GREY_TRAIN_B, np.inf)
    for image in train_b.as_numpy_iterator():
        assert image.shape == (256, 256, 3)
        for name, reference in grey.items():
            closest[name] = min(closest[name], float(np.abs(image - reference).mean()))
    # Each greyscale JPEG is in trainB as a three-channel image (JPEG decoders may differ
    # by a grey level or two).
    assert max(closest.values()) < 3.0, closest
    test_a = cycle_gan_source("horse2zebra", "A", "test", str(root))
    assert int(test_a.cardinality()) == 120
