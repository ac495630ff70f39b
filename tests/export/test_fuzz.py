"""Fuzz: random bytes and random valid images of random sizes and modes through the folder
reader and the `translate_image` signature. Neither may crash the process or answer with a
silent NaN: an input is either refused with a readable error or processed correctly."""

import io
import struct
import zlib

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from kgan.data import folders
from kgan.errors import KganError

SEED = 20240601
FOLDER_INPUTS = 300
SIGNATURE_INPUTS = 200
# PIL modes and the formats that can hold them.
MODES = {"1": ("PNG",), "L": ("PNG", "JPEG"), "LA": ("PNG",), "P": ("PNG",),
         "RGB": ("PNG", "JPEG"), "RGBA": ("PNG",), "I;16": ("PNG",), "CMYK": ("JPEG",)}


def random_image(rng):
    mode = str(rng.choice(list(MODES)))
    fmt = str(rng.choice(MODES[mode]))
    width, height = (int(v) for v in rng.integers(1, 97, 2))
    pixels = rng.integers(0, 256, (height, width, 4), dtype=np.uint8)
    image = Image.fromarray(pixels, "RGBA").convert(mode if mode != "I;16" else "L")
    if mode == "I;16":
        image = Image.fromarray(rng.integers(0, 65536, (height, width), dtype=np.uint16))
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue(), (width, height)


def huge_png_header(side):
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr
            + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr)) + b"\0" * 32)


def random_input(rng):
    """`(bytes, (width, height) if it is an intact image else None, kind)`."""
    kind = str(rng.choice(["image", "image", "truncated", "flipped", "bytes", "magic", "huge"]))
    if kind == "bytes":
        return rng.bytes(int(rng.integers(0, 2000))), None, kind
    if kind == "magic":
        magic = [b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff"][int(rng.integers(2))]
        return magic + rng.bytes(int(rng.integers(0, 500))), None, kind
    if kind == "huge":
        return huge_png_header(int(rng.integers(5000, 70000))), None, kind
    data, size = random_image(rng)
    if kind == "truncated":
        return data[:int(rng.integers(0, len(data)))], None, kind
    if kind == "flipped":
        data = bytearray(data)
        for index in rng.integers(0, len(data), int(rng.integers(1, 8))):
            data[index] ^= int(rng.integers(1, 256))
        return bytes(data), None, kind
    return data, size, kind


def test_fuzz_the_folder_reader(tmp_path):
    rng = np.random.default_rng(SEED)
    paths, sizes = [], {}
    for i in range(FOLDER_INPUTS):
        data, size, _ = random_input(rng)
        path = tmp_path / f"{i}.png"
        path.write_bytes(data)
        paths.append(str(path))
        sizes[str(path)] = size
    good, bad = folders.validate_images(paths, "skip")
    assert len(good) + len(bad) == FOLDER_INPUTS
    # Every intact image passes; whatever passes decodes in TensorFlow to what Pillow saw.
    assert {p for p, size in sizes.items() if size} <= set(good), bad
    for path in good:
        image = folders.read_image(path).numpy()
        with Image.open(path) as opened:
            assert image.shape == (opened.size[1], opened.size[0], 3) and image.dtype == np.uint8
    for path, _ in bad:
        try:
            folders.read_image(path)
        except KganError as error:
            assert "\n" not in str(error)


@pytest.fixture(scope="module")
def signatures(loaded):
    return loaded.signatures["translate_image"], loaded.signatures["serving_default"]


def test_fuzz_translate_image(signatures):
    translate_image, serve = signatures
    rng = np.random.default_rng(SEED + 1)
    answered = refused = 0
    for _ in range(SIGNATURE_INPUTS):
        data, size, kind = random_input(rng)
        try:
            png = translate_image(image_bytes=tf.constant([data]))["image_bytes"][0].numpy()
        except tf.errors.InvalidArgumentError as error:
            refused += 1
            assert size is None, f"an intact {kind} image was refused: {error}"
            continue
        answered += 1
        output = np.asarray(Image.open(io.BytesIO(png)))
        if size is not None:
            assert output.shape == (size[1], size[0], 3)
    assert answered and refused
    # The float signature on random images: finite outputs in [-1, 1].
    for _ in range(20):
        height, width = (int(v) * 32 for v in rng.integers(1, 4, 2))
        images = rng.uniform(-1, 1, (int(rng.integers(1, 3)), height, width, 3)).astype("float32")
        output = serve(images=tf.constant(images))["images"].numpy()
        assert np.all(np.isfinite(output)) and np.all(np.abs(output) <= 1)
