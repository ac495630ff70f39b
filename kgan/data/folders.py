"""Users' own image folders: the layouts kgan reads, and up-front image validation.

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
PAIRED_SPLITS = ("train", "val", "test")
UNPAIRED_FOLDERS = ("trainA", "trainB", "testA", "testB")
_MAX_EXAMPLES = 5  # names listed when A/ and B/ do not match


def _natural_key(name):
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def list_images(folder):
    """Image files (JPEG or PNG by extension) directly in `folder`, in natural order."""
    names = [n for n in os.listdir(folder) if n.lower().endswith(IMAGE_EXTENSIONS)
             and os.path.isfile(os.path.join(folder, n))]
    return [os.path.join(folder, n) for n in sorted(names, key=_natural_key)]


def check_image(path, side_by_side=False):
    """What is wrong with one image file, or None when it is usable.

    Reads the header, then decodes every pixel (`Image.load()`), which catches
    truncated files that a header check alone lets through.

    Args:
        path: the file.
        side_by_side: also require an A|B image, width == 2 x height.

    Returns:
        None, or a short description of the problem ("not an image", "truncated ...").
    """
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


def check_on_bad_image(on_bad_image):
    if on_bad_image not in ON_BAD_IMAGE:
        raise ConfigError(f"on_bad_image must be error or skip, got {on_bad_image!r}")


def _require_dir(root, expected):
    if not os.path.isdir(root):
        raise KganError(f"data dir {root} does not exist: pass a folder with {expected} inside")


def _subfolders(root):
    return sorted(n for n in os.listdir(root) if os.path.isdir(os.path.join(root, n)))


def paired_layout(root):
    """"parallel" when `root` holds A/ and B/ folders, otherwise "side_by_side"."""
    _require_dir(root, "train/ val/ test/ (A|B images) or A/ and B/")
    both = all(os.path.isdir(os.path.join(root, d)) for d in ("A", "B"))
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


def side_by_side_files(root, split, on_bad_image="error"):
    """Checked A|B image files of `root/split`, in natural order."""
    folder = _split_folder(root, split)
    files = list_images(folder)
    if not files:
        raise KganError(f"{folder} holds no .jpg/.jpeg/.png images")
    good, bad = validate_images(files, on_bad_image, side_by_side=True)
    if not good:
        raise KganError(f"{folder}: none of its {len(files)} images is usable ({bad[0][0]} {bad[0][1]})")
    _report(f"{split} A|B images", folder, good, bad)
    return good


def _stem(path):
    return os.path.splitext(os.path.basename(path))[0]


def parallel_pair_files(root, split, on_bad_image="error"):
    """Checked `(a_files, b_files)` of `root/A/split` and `root/B/split`, matched by name.

    Raises:
        KganError: a name present on one side only (the message lists examples), an
            empty folder, or (with on_bad_image="error") a bad file.
    """
    folders = [_split_folder(root, side, split) for side in ("A", "B")]
    by_stem = []
    for folder in folders:
        files = list_images(folder)
        if not files:
            raise KganError(f"{folder} holds no .jpg/.jpeg/.png images")
        stems = {}
        for path in files:
            if _stem(path) in stems:
                raise KganError(f"{folder} has two images named {_stem(path)} ({os.path.basename(path)} "
                                f"and {os.path.basename(stems[_stem(path)])})")
            stems[_stem(path)] = path
        by_stem.append(stems)
    only_a = sorted(set(by_stem[0]) - set(by_stem[1]), key=_natural_key)
    only_b = sorted(set(by_stem[1]) - set(by_stem[0]), key=_natural_key)
    if only_a or only_b:
        def examples(names):
            shown = ", ".join(names[:_MAX_EXAMPLES])
            return f"{shown}, ..." if len(names) > _MAX_EXAMPLES else shown or "none"
        raise KganError(
            f"A/{split} and B/{split} in {root} do not match by file name: "
            f"{len(only_a)} only in A ({examples(only_a)}), {len(only_b)} only in B ({examples(only_b)})"
        )
    stems = sorted(by_stem[0], key=_natural_key)
    a_files = [by_stem[0][s] for s in stems]
    b_files = [by_stem[1][s] for s in stems]
    good_a, bad_a = validate_images(a_files, on_bad_image)
    good_b, bad_b = validate_images(b_files, on_bad_image)
    usable = {_stem(p) for p in good_a} & {_stem(p) for p in good_b}
    pairs = [(a, b) for s, a, b in zip(stems, a_files, b_files) if s in usable]
    if not pairs:
        raise KganError(f"{root}: no usable A/B pair in {split}")
    bad = bad_a + bad_b
    _report(f"{split} A/B pairs", os.path.join(root, "{A,B}", split), pairs, bad)
    return [a for a, _ in pairs], [b for _, b in pairs]


def decode_rgb(contents):
    """Decode JPEG/PNG bytes (grey, palette or RGBA too) to uint8 [H, W, 3]."""
    return tf.io.decode_image(contents, channels=3, expand_animations=False)


def decode_side_by_side(contents):
    """Decode one A|B image and cut it into its halves.

    Args:
        contents: scalar string tensor, the bytes of a JPEG or PNG (grey or RGBA allowed).

    Returns:
        `(a, b)`: uint8 [H, W // 2, 3] each; A is the left half.
    """
    image = decode_rgb(contents)
    half = tf.shape(image)[1] // 2
    return image[:, :half], image[:, half:2 * half]


def paired_folder_pairs(root, split, on_bad_image="error"):
    """A `tf.data.Dataset` of `(a, b)` uint8 [H, W, 3] pairs from a paired folder.

    Either layout (see the module docstring); files are validated first. The data set's
    cardinality is the number of usable pairs.
    """
    if paired_layout(root) == "parallel":
        a_files, b_files = parallel_pair_files(root, split, on_bad_image)
        files = tf.data.Dataset.from_tensor_slices((a_files, b_files))
        return files.map(
            lambda a, b: (decode_rgb(tf.io.read_file(a)), decode_rgb(tf.io.read_file(b))),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    files = tf.data.Dataset.from_tensor_slices(side_by_side_files(root, split, on_bad_image))
    return files.map(
        lambda path: decode_side_by_side(tf.io.read_file(path)),
        num_parallel_calls=tf.data.AUTOTUNE,
    )


def unpaired_folder_files(root, domain, split, on_bad_image="error"):
    """Checked image files of `root/{split}{domain}` (e.g. trainA), natural order.

    Args:
        root: folder holding trainA/ trainB/ testA/ testB/.
        domain: "A" or "B".
        split: "train" or "test".
        on_bad_image: "error" or "skip".
    """
    if domain not in ("A", "B"):
        raise ConfigError(f"domain must be A or B, got {domain!r}")
    _require_dir(root, "trainA/ trainB/ testA/ testB/")
    name = f"{split}{domain}"
    folder = os.path.join(root, name)
    if not os.path.isdir(folder):
        raise KganError(
            f"{root} has no {name}/ folder (found: {', '.join(_subfolders(root)) or 'nothing'}); "
            "expected the CycleGAN layout trainA/ trainB/ testA/ testB/"
        )
    files = list_images(folder)
    if not files:
        raise KganError(f"{folder} holds no .jpg/.jpeg/.png images")
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
    if all(os.path.isdir(os.path.join(root, d)) for d in ("A", "B")):
        layout, folders = "A/ B/ parallel", {s: os.path.join(root, "A", s) for s in PAIRED_SPLITS}
    elif any(os.path.isdir(os.path.join(root, d)) for d in UNPAIRED_FOLDERS):
        layout, folders = "unpaired", {s: os.path.join(root, s) for s in UNPAIRED_FOLDERS}
    else:
        layout, folders = "A|B side by side", {s: os.path.join(root, s) for s in PAIRED_SPLITS}
    counts = [f"{s} {len(list_images(f))}" for s, f in folders.items() if os.path.isdir(f)]
    return f"{root}: {layout} layout, {', '.join(counts) or 'no split folders'}"
