"""Users' own image folders: the layouts kgan reads, and up-front image validation.

The one reader of image folders in kgan: the recipes (through `paired_source` and
`unpaired_source`), `python -m kgan.evaluate` and `python -m kgan.translate` all list,
check and decode images here.

Layouts (JPEG or PNG; grey, palette and RGBA images become RGB; any size, the pipeline
resizes):

* paired, side by side (the pix2pix archives): `ROOT/{train,val,test}/NAME.jpg`, each
  image A|B with A in the left half, so width must be twice the height;
* paired, parallel folders (the input of pix2pix's `combine_A_and_B.py`):
  `ROOT/A/{train,val,test}/NAME` and `ROOT/B/{train,val,test}/NAME`, pairs matched by
  file name without extension (`A/train/12.jpg` goes with `B/train/12.png`);
* unpaired (CycleGAN): `ROOT/{trainA,trainB,testA,testB}/`.

Every file is opened with Pillow and fully decoded before training starts, so a truncated
or non-image file (or an A|B image of the wrong shape) stops the run with one line naming
the file, or is skipped and counted with `on_bad_image="skip"`, instead of failing inside
`tf.data` mid-epoch.
"""

import concurrent.futures
import os
import re

import tensorflow as tf
from PIL import Image

from kgan.errors import ConfigError, KganError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")
ON_BAD_IMAGE = ("error", "skip")
DOMAINS = ("A", "B")
PAIRED_SPLITS = ("train", "val", "test")
UNPAIRED_FOLDERS = ("trainA", "trainB", "testA", "testB")
_MAX_EXAMPLES = 5  # names listed when A/ and B/ do not match


def _natural_key(name):
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def stem(path):
    """The file name without folder and extension: what pairs `A/x.jpg` with `B/x.png`."""
    return os.path.splitext(os.path.basename(path))[0]


def list_images(folder):
    """Image files (JPEG or PNG by extension) directly in `folder`, in natural order.

    Broken symbolic links (dangling, or loops) are listed too, so that `check_image`
    reports them instead of their being left out unsaid.
    """
    names = [n for n in os.listdir(folder) if n.lower().endswith(IMAGE_EXTENSIONS)
             and not os.path.isdir(os.path.join(folder, n))]
    return [os.path.join(folder, n) for n in sorted(names, key=_natural_key)]


def _images_in(folder):
    files = list_images(folder)
    if not files:
        raise KganError(f"{folder} holds no .jpg, .jpeg or .png files")
    return files


def image_files(paths):
    """The image files named by `paths`: files as given, folders listed (not recursive).

    Args:
        paths: a path or a list of paths, each an image file or a folder of images.

    Returns:
        list of str, in the order given, each folder's images in natural order.

    Raises:
        KganError: a path that does not exist, or a folder without images.
    """
    files = []
    for path in [paths] if isinstance(paths, (str, os.PathLike)) else paths:
        if os.path.isdir(path):
            files += _images_in(path)
        elif os.path.isfile(path):
            files.append(path)
        else:
            raise KganError(f"no such file or folder: {path}")
    return files


def check_domain(domain):
    """Raise a ConfigError unless `domain` is "A" or "B"."""
    if domain not in DOMAINS:
        raise ConfigError(f"domain must be A or B, got {domain!r}")


def check_on_bad_image(on_bad_image):
    """Raise a ConfigError unless `on_bad_image` is "error" or "skip"."""
    if on_bad_image not in ON_BAD_IMAGE:
        raise ConfigError(f"on_bad_image must be error or skip, got {on_bad_image!r}")


def check_image(path, side_by_side=False):
    """What is wrong with one image file, or None when it is usable.

    Reads the header, then decodes every pixel with Pillow (`Image.load()`), which catches
    truncated files that a header check alone lets through, and with TensorFlow, as the
    training pipeline will.

    Args:
        path: the file.
        side_by_side: also require an A|B image, width == 2 x height.

    Returns:
        None, or a short description of the problem ("not an image", "truncated ...").
    """
    if os.path.islink(path) and not os.path.exists(path):
        return "is a broken symbolic link (its target is missing, or a loop)"
    try:
        with Image.open(path) as image:
            if image.format not in ("JPEG", "PNG"):
                return f"is {image.format}, not JPEG or PNG"
            width, height = image.size
            image.load()
    except Image.DecompressionBombError as error:
        return f"is too large to decode ({error})"
    except (OSError, SyntaxError, ValueError) as error:
        # PIL.UnidentifiedImageError is an OSError; truncation raises OSError too.
        message = str(error).replace(f"'{path}'", "").strip() or type(error).__name__
        return f"is not a readable image ({message})"
    if side_by_side and width != 2 * height:
        return f"is {width}x{height}, not an A|B pair (width must be twice the height)"
    try:
        # What tf.data will decode: Pillow ignores some damage (bad chunk checksums) that
        # TensorFlow's decoders refuse, which would stop training mid-epoch.
        decode_rgb(tf.io.read_file(path))
    except tf.errors.OpError as error:
        reason = error.message.split("}}")[-1].split("[Op:")[0].strip() or type(error).__name__
        return f"is not a readable image (TensorFlow: {reason})"
    return None


def validate_images(paths, on_bad_image="error", side_by_side=False):
    """Check image files with Pillow (in parallel threads) before any training.

    Args:
        paths: files to check.
        on_bad_image: "error" raises on the first bad file; "skip" drops bad files.
        side_by_side: require A|B images (width == 2 x height).

    Returns:
        `(good, bad)`: the usable paths in their original order, and `[(path, problem)]`.

    Raises:
        KganError: with "error", one line naming the first bad file and the problem.
    """
    check_on_bad_image(on_bad_image)
    workers = min(8, (os.cpu_count() or 1) + 1)
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        problems = list(pool.map(lambda p: check_image(p, side_by_side), paths))
    bad = [(p, problem) for p, problem in zip(paths, problems) if problem]
    if bad and on_bad_image == "error":
        path, problem = bad[0]
        more = f" ({len(bad) - 1} more bad files)" if len(bad) > 1 else ""
        raise KganError(
            f"{path} {problem}{more}: fix or remove it, or pass --on-bad-image skip"
        )
    good = [p for p, problem in zip(paths, problems) if not problem]
    return good, bad


def _require_dir(root, expected):
    if not os.path.isdir(root):
        raise KganError(f"data dir {root} does not exist: pass a folder with {expected} inside")


def _subfolders(root):
    return sorted(n for n in os.listdir(root) if os.path.isdir(os.path.join(root, n)))


def paired_layout(root):
    """"parallel" when `root` holds A/ and B/ folders, otherwise "side_by_side"."""
    _require_dir(root, "train/ val/ test/ (A|B images) or A/ and B/")
    both = all(os.path.isdir(os.path.join(root, d)) for d in DOMAINS)
    return "parallel" if both else "side_by_side"


def _split_folder(root, *parts):
    folder = os.path.join(root, *parts)
    if not os.path.isdir(folder):
        parent = os.path.dirname(folder)
        found = ", ".join(_subfolders(parent)) if os.path.isdir(parent) else "nothing"
        raise KganError(
            f"{parent} has no {parts[-1]}/ folder (found: {found or 'nothing'}); expected "
            "train/ val/ test/ of A|B images, or A/<split>/ and B/<split>/ matched by name"
        )
    return folder


def has_paired_split(root, split):
    """Whether the paired folder `root` has images for `split` (in either layout)."""
    if paired_layout(root) == "parallel":
        folder = os.path.join(root, "A", split)
    else:
        folder = os.path.join(root, split)
    return os.path.isdir(folder) and bool(list_images(folder))


def _report(what, folder, good, bad):
    skipped = f" (skipped {len(bad)} bad files)" if bad else ""
    print(f"data: {len(good)} {what} in {folder}{skipped}")


def _side_by_side_files(root, split, on_bad_image):
    folder = _split_folder(root, split)
    files = _images_in(folder)
    good, bad = validate_images(files, on_bad_image, side_by_side=True)
    if not good:
        raise KganError(f"{folder}: none of its {len(files)} images is usable ({bad[0][0]} {bad[0][1]})")
    _report(f"{split} A|B images", folder, good, bad)
    return [(stem(path), path, path) for path in good]


def _by_stem(folder):
    """{file stem: path} of a folder's images; two images may not share a stem."""
    paths = {}
    for path in _images_in(folder):
        if stem(path) in paths:
            raise KganError(f"{folder} has two images named {stem(path)} ({os.path.basename(path)} "
                            f"and {os.path.basename(paths[stem(path)])})")
        paths[stem(path)] = path
    return paths


def _examples(names):
    shown = ", ".join(names[:_MAX_EXAMPLES])
    return f"{shown}, ..." if len(names) > _MAX_EXAMPLES else shown or "none"


def _parallel_files(root, split, on_bad_image):
    a_paths, b_paths = (_by_stem(_split_folder(root, side, split)) for side in DOMAINS)
    only_a = sorted(set(a_paths) - set(b_paths), key=_natural_key)
    only_b = sorted(set(b_paths) - set(a_paths), key=_natural_key)
    if only_a or only_b:
        raise KganError(
            f"A/{split} and B/{split} in {root} do not match by file name: "
            f"{len(only_a)} only in A ({_examples(only_a)}), {len(only_b)} only in B ({_examples(only_b)})"
        )
    stems = sorted(a_paths, key=_natural_key)
    good_a, bad_a = validate_images([a_paths[s] for s in stems], on_bad_image)
    good_b, bad_b = validate_images([b_paths[s] for s in stems], on_bad_image)
    usable = {stem(p) for p in good_a} & {stem(p) for p in good_b}
    pairs = [(s, a_paths[s], b_paths[s]) for s in stems if s in usable]
    if not pairs:
        raise KganError(f"{root}: no usable A/B pair in {split}")
    _report(f"{split} A/B pairs", os.path.join(root, "{A,B}", split), pairs, bad_a + bad_b)
    return pairs


def paired_folder_files(root, split, on_bad_image="error"):
    """The checked pairs of files of one split of a paired folder, in natural order.

    Args:
        root: a paired folder in either layout (see the module docstring).
        split: "train", "val" or "test"; "val" gives the test split where `root` has no
            val images.
        on_bad_image: "error" or "skip".

    Returns:
        list of `(name, a_file, b_file)`: name is the file name without extension; in the
        side-by-side layout `a_file` and `b_file` are the same A|B file.

    Raises:
        KganError: a missing or empty folder, names present on one side only (the message
            lists examples), or (with on_bad_image="error") a bad file.
    """
    if split == "val" and not has_paired_split(root, "val"):
        split = "test"
    if paired_layout(root) == "parallel":
        return _parallel_files(root, split, on_bad_image)
    return _side_by_side_files(root, split, on_bad_image)


def decode_rgb(contents):
    """Decode JPEG/PNG bytes (grey, palette or RGBA too) to uint8 [H, W, 3].

    JPEGs use the exact integer IDCT, as Pillow (and so pytorch-fid and clean-fid) does:
    TensorFlow's default fast IDCT has CPU-specific SIMD paths, so the same file decoded on
    two machines differed by up to 24 levels, and FID of facades photos by 0.3.
    """
    return tf.cond(
        tf.io.is_jpeg(contents),
        lambda: tf.io.decode_jpeg(contents, channels=3, dct_method="INTEGER_ACCURATE"),
        lambda: tf.io.decode_image(contents, channels=3, expand_animations=False))


def read_image(path):
    """One image file as uint8 [H, W, 3] (a tensor); KganError naming the file if unreadable."""
    try:
        return decode_rgb(tf.io.read_file(path))
    except (tf.errors.InvalidArgumentError, tf.errors.NotFoundError) as error:
        raise KganError(f"cannot decode {path}: {error.message.splitlines()[0]}") from None


def split_side_by_side(image):
    """Cut an A|B image [H, W, C] into its halves `(a, b)`, [H, W // 2, C] each; A is left."""
    half = tf.shape(image)[1] // 2
    return image[:, :half], image[:, half:2 * half]


def decode_side_by_side(contents):
    """Decode one A|B image and cut it into its halves.

    Args:
        contents: scalar string tensor, the bytes of a JPEG or PNG (grey or RGBA allowed).

    Returns:
        `(a, b)`: uint8 [H, W // 2, 3] each; A is the left half.
    """
    return split_side_by_side(decode_rgb(contents))


def read_pairs(files):
    """A `tf.data.Dataset` of `(a, b)` uint8 [H, W, 3] pairs from `paired_folder_files`' list.

    Where `a_file` is `b_file` the file is one A|B image, cut in half.
    """
    _, a_files, b_files = (list(column) for column in zip(*files))
    if a_files == b_files:
        return tf.data.Dataset.from_tensor_slices(a_files).map(
            lambda path: decode_side_by_side(tf.io.read_file(path)),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    return tf.data.Dataset.from_tensor_slices((a_files, b_files)).map(
        lambda a, b: (decode_rgb(tf.io.read_file(a)), decode_rgb(tf.io.read_file(b))),
        num_parallel_calls=tf.data.AUTOTUNE,
    )


def paired_folder_pairs(root, split, on_bad_image="error"):
    """A `tf.data.Dataset` of `(a, b)` uint8 [H, W, 3] pairs from a paired folder.

    Either layout (see the module docstring); files are validated first. The data set's
    cardinality is the number of usable pairs.
    """
    return read_pairs(paired_folder_files(root, split, on_bad_image))


def unpaired_folder_files(root, domain, split, on_bad_image="error"):
    """Checked image files of `root/{split}{domain}` (e.g. trainA), natural order.

    Args:
        root: folder holding trainA/ trainB/ testA/ testB/.
        domain: "A" or "B".
        split: "train" or "test".
        on_bad_image: "error" or "skip".
    """
    check_domain(domain)
    _require_dir(root, "trainA/ trainB/ testA/ testB/")
    name = f"{split}{domain}"
    folder = os.path.join(root, name)
    if not os.path.isdir(folder):
        raise KganError(
            f"{root} has no {name}/ folder (found: {', '.join(_subfolders(root)) or 'nothing'}); "
            "expected the CycleGAN layout trainA/ trainB/ testA/ testB/"
        )
    files = _images_in(folder)
    good, bad = validate_images(files, on_bad_image)
    if not good:
        raise KganError(f"{folder}: none of its {len(files)} images is usable")
    _report(f"{name} images", folder, good, bad)
    return good


def unpaired_folder_source(root, domain, split, on_bad_image="error"):
    """A `tf.data.Dataset` of uint8 [H, W, 3] images of one domain and split."""
    files = unpaired_folder_files(root, domain, split, on_bad_image)
    return tf.data.Dataset.from_tensor_slices(files).map(
        lambda path: decode_rgb(tf.io.read_file(path)), num_parallel_calls=tf.data.AUTOTUNE,
    )


def describe_folder(root):
    """One line with the image counts per split of a paired or unpaired folder (no decoding)."""
    _require_dir(root, "train/ val/ test/, A/ B/ or trainA/ trainB/ testA/ testB/")
    if all(os.path.isdir(os.path.join(root, d)) for d in DOMAINS):
        layout, folders = "A/ B/ parallel", {s: os.path.join(root, "A", s) for s in PAIRED_SPLITS}
    elif any(os.path.isdir(os.path.join(root, d)) for d in UNPAIRED_FOLDERS):
        layout, folders = "unpaired", {s: os.path.join(root, s) for s in UNPAIRED_FOLDERS}
    else:
        layout, folders = "A|B side by side", {s: os.path.join(root, s) for s in PAIRED_SPLITS}
    counts = [f"{s} {len(list_images(f))}" for s, f in folders.items() if os.path.isdir(f)]
    return f"{root}: {layout} layout, {', '.join(counts) or 'no split folders'}"
