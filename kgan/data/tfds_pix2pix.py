"""TFDS builder for the paired data sets the pix2pix authors publish, and the TFDS plumbing
kgan shares between its builders (checksum overrides, manual archives, offline errors).

`pix2pix/<name>` for name in facades, maps, cityscapes, edges2shoes, night2day, from
`http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/<name>.tar.gz`. Each archive holds
`<name>/{train,val,test}/*.jpg`, every image A|B side by side (A left). Splits are the
archive's folders, as published (facades 400/100/106, maps 1096/1098, cityscapes
2975/500).

Features: `image` (the original A|B JPEG bytes, stored unchanged: no second JPEG
compression and no PNG blow-up) and `file_name` ("train/1.jpg"); loaders split the halves
on load with `split_pair`. Every image is fully decoded with Pillow while the set is
prepared, and its shape checked, so a damaged archive fails there, not mid-epoch.

Checksums are registered the TFDS way, in `checksums.tsv` next to this file (url, size,
sha256, file name). They are matched by file name, so a mirror set with the environment
variable `KGAN_PIX2PIX_URL` (or the `base_url` builder argument) is checked against the
same entries. `KGAN_TFDS_CHECKSUMS` (or `checksums_file`) names an extra file in the same
format whose entries win: for archives you built yourself, and for tests.

Manual download: put `<name>.tar.gz` in the manual dir (`<tfds data_dir>/downloads/manual/`
unless `DownloadConfig(manual_dir=...)` says otherwise) and the set is prepared from it
with no network access.
"""

import inspect
import os
import re
import shutil
import socket
import urllib.parse
import urllib.request

import tensorflow as tf
import tensorflow_datasets as tfds
from etils import epath
from tensorflow_datasets.core import utils as tfds_utils
from tensorflow_datasets.core.download import checksums as tfds_checksums
from tensorflow_datasets.core.download.download_manager import NonMatchingChecksumError

from kgan.data.folders import check_image, list_images
from kgan.errors import KganError

DEFAULT_BASE_URL = "http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/"
BASE_URL_ENV = "KGAN_PIX2PIX_URL"
CHECKSUMS_ENV = "KGAN_TFDS_CHECKSUMS"
CONNECT_TIMEOUT_S = 5

# name -> (splits as published, description)
PIX2PIX_SETS = {
    "facades": (("train", "val", "test"),
                "CMP Facades: building photo (A) | colour-coded facade labels (B), 256x256 halves."),
    "maps": (("train", "val"), "Aerial photo (A) | Google Maps tile (B), 600x600 halves."),
    "cityscapes": (("train", "val"), "Street photo (A) | semantic label colours (B), 256x256 halves."),
    "edges2shoes": (("train", "val"), "Edge map (A) | shoe photo (B), 256x256 halves."),
    "night2day": (("train", "val", "test"), "Night (A) | day (B) webcam views, 256x256 halves."),
}

_CITATION = """\
@inproceedings{isola2017image,
  title={Image-to-Image Translation with Conditional Adversarial Networks},
  author={Isola, Phillip and Zhu, Jun-Yan and Zhou, Tinghui and Efros, Alexei A},
  booktitle={CVPR},
  year={2017}
}
"""


def load_checksums(path):
    """TFDS checksums file (url, size, sha256[, file name]) -> {file name: UrlInfo}."""
    infos = {}
    for url, info in tfds_checksums.load_url_infos(path).items():
        name = info.filename or os.path.basename(urllib.parse.urlparse(url).path)
        infos[name] = tfds_checksums.UrlInfo(size=info.size, checksum=info.checksum, filename=name)
    return infos


class LocalChecksumsMixin:
    """For TFDS builders: registered checksums matched by file name, local overrides, and
    the manual-dir path remembered for `prepare`.

    Subclasses define `download_url`. The registered entries come from the builder's own
    `url_infos` (TFDS's checksums file); `checksums_file` / $KGAN_TFDS_CHECKSUMS entries win.
    """

    @tfds_utils.classproperty
    @classmethod
    def code_path(cls):
        # TFDS 4.9.10 imports the backport `importlib_resources` here, which it only
        # requires on Python < 3.9; the plain file path is what it falls back to anyway.
        # The checksums.tsv beside this path is the builder's registered checksums.
        return epath.Path(inspect.getfile(cls))

    def __init__(self, *, checksums_file=None, **kwargs):
        self._checksums_file = checksums_file or os.environ.get(CHECKSUMS_ENV) or None
        self.manual_dir = None
        super().__init__(**kwargs)

    @property
    def archive_name(self):
        return os.path.basename(urllib.parse.urlparse(self.download_url).path)

    def expected_url_info(self):
        """The registered UrlInfo of this config's archive, or None when unregistered."""
        infos = {}
        for url, info in (type(self).url_infos or {}).items():
            infos[info.filename or os.path.basename(urllib.parse.urlparse(url).path)] = info
        infos.update(_global_url_info(self.download_url))
        if self._checksums_file:
            if not os.path.isfile(self._checksums_file):
                raise KganError(f"checksums file {self._checksums_file} does not exist")
            infos.update(load_checksums(self._checksums_file))
        info = infos.get(self.archive_name)
        if info is None:
            return None
        return tfds_checksums.UrlInfo(size=info.size, checksum=info.checksum, filename=self.archive_name)

    def _make_download_manager(self, download_dir, download_config):
        dl_manager = super()._make_download_manager(download_dir, download_config)
        self.manual_dir = download_config.manual_dir or (
            os.path.join(download_dir or os.path.join(self.data_dir_root, "downloads"), "manual"))
        info = self.expected_url_info()
        if info is not None:
            # The DownloadManager has no public per-instance hook for expected checksums;
            # this entry makes TFDS validate the download (or the manual file) against it.
            dl_manager._url_infos[self.download_url] = info  # pylint: disable=protected-access
        return dl_manager


def _global_url_info(url):
    """`{file name: UrlInfo}` from TFDS's own checksum files for `url` (empty if none).

    A builder subclassed outside tensorflow_datasets (kgan's `cycle_gan`) no longer finds
    TFDS's file through `url_infos`; the DownloadManager still loads it globally.
    """
    info = tfds_checksums.get_all_url_infos().get(url)
    return {info.filename or os.path.basename(urllib.parse.urlparse(url).path): info} if info else {}


class Pix2pixConfig(tfds.core.BuilderConfig):
    """One published pix2pix archive."""

    def __init__(self, *, splits, **kwargs):
        super().__init__(**kwargs)
        self.splits = splits


class Pix2pix(LocalChecksumsMixin, tfds.core.GeneratorBasedBuilder):
    """The pix2pix paired data sets as published by the authors (A|B images)."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Original A|B JPEG bytes, checked with Pillow at preparation."}
    BUILDER_CONFIGS = [
        Pix2pixConfig(name=name, description=description, splits=splits)
        for name, (splits, description) in PIX2PIX_SETS.items()
    ]
    MANUAL_DOWNLOAD_INSTRUCTIONS = (
        "Optional: put the published <name>.tar.gz (e.g. facades.tar.gz from "
        f"{DEFAULT_BASE_URL}) in the manual dir to prepare the set without network access."
    )

    def __init__(self, *, base_url=None, **kwargs):
        self._base_url = base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
        if not self._base_url.endswith("/"):
            self._base_url += "/"
        super().__init__(**kwargs)

    @property
    def download_url(self):
        return f"{self._base_url}{self.builder_config.name}.tar.gz"

    def _info(self):
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict({
                "image": tfds.features.Image(shape=(None, None, 3), encoding_format="jpeg"),
                "file_name": tfds.features.Text(),
            }),
            homepage="https://phillipi.github.io/pix2pix/",
            citation=_CITATION,
        )

    def _split_generators(self, dl_manager):
        manual_archive = os.path.join(self.manual_dir, self.archive_name) if self.manual_dir else None
        if manual_archive and os.path.isfile(manual_archive) and self.expected_url_info() is None:
            # TFDS only looks in the manual dir for registered archives; an unregistered
            # one is extracted as it is.
            extracted = dl_manager.extract(manual_archive)
        else:
            extracted = dl_manager.download_and_extract(self.download_url)
        root = _find_split_root(os.fspath(extracted), self.builder_config.name, self.builder_config.splits)
        return {
            split: self._generate_examples(root, split)
            for split in self.builder_config.splits
            if os.path.isdir(os.path.join(root, split))
        }

    def _generate_examples(self, root, split):
        for path in list_images(os.path.join(root, split)):
            key = f"{split}/{os.path.basename(path)}"
            problem = check_image(path, side_by_side=True)
            if problem:
                raise KganError(
                    f"{self.archive_name}: {key} {problem}: the archive is damaged; delete it "
                    "and rerun, or unpack a good copy and pass --data-dir"
                )
            yield key, {"image": path, "file_name": key}


def _find_split_root(extracted, name, splits):
    """The folder holding the split folders: `<extracted>/<name>/` or `<extracted>/`."""
    for candidate in (os.path.join(extracted, name), extracted):
        if any(os.path.isdir(os.path.join(candidate, s)) for s in splits):
            return candidate
    found = ", ".join(sorted(os.listdir(extracted))) if os.path.isdir(extracted) else "nothing"
    raise KganError(
        f"{name}.tar.gz does not hold {name}/{{{','.join(splits)}}}/ (found: {found}): "
        "not the published archive"
    )


def split_pair(example):
    """A `pix2pix/*` or `bluemarble/*` example -> `(a, b)` uint8 [H, W/2, 3] halves."""
    image = example["image"]
    half = tf.shape(image)[1] // 2
    return image[:, :half], image[:, half:2 * half]


def _proxied(url):
    return urllib.parse.urlparse(url).scheme in urllib.request.getproxies()


def check_reachable(url, timeout=CONNECT_TIMEOUT_S):
    """Return None if a TCP connection to `url`'s host opens within `timeout`, else why not.

    TFDS's downloader sets no connect timeout, so without this an offline machine can
    hang; with a proxy configured the check is left to the download itself.
    """
    parts = urllib.parse.urlparse(url)
    if parts.scheme not in ("http", "https") or _proxied(url):
        return None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            return None
    except OSError as error:
        return f"{parts.hostname}:{port} unreachable: {error.strerror or error}"


def offline_message(builder, reason):
    name = builder.archive_name
    return (
        f"cannot download {builder.download_url} ({reason}): put {name} in "
        f"{builder.manual_dir or '<tfds dir>/downloads/manual'} and rerun (no network needed), "
        f"or unpack {name} and pass its folder with --data-dir"
    )


def _remove_partial_downloads(builder):
    """Delete TFDS's `*.tmp.*` download folders of this builder (left by a failed check)."""
    folder = os.path.join(os.fspath(builder.data_dir_root), "downloads", builder.name)
    if os.path.isdir(folder):
        for entry in os.listdir(folder):
            if ".tmp." in entry:
                shutil.rmtree(os.path.join(folder, entry), ignore_errors=True)


def is_prepared(builder):
    """Whether the builder's data set is already prepared in its data dir."""
    return tf.io.gfile.exists(os.path.join(os.fspath(builder.data_dir), "dataset_info.json"))


def prepare(builder, manual_dir=None):
    """Download (or take from the manual dir), check and prepare a kgan TFDS builder.

    Args:
        builder: a builder with `LocalChecksumsMixin`.
        manual_dir: where a manually downloaded archive may be (default: TFDS's
            `<data_dir>/downloads/manual`).

    Raises:
        KganError: offline with no manual archive (naming the URL, the file expected in the
            manual dir and --data-dir), a wrong checksum, or a damaged archive. Nothing is
            left half-prepared: TFDS writes into a temporary folder renamed at the end.
    """
    if is_prepared(builder):
        return builder
    manual_dir = os.fspath(manual_dir or os.path.join(builder.data_dir_root, "downloads", "manual"))
    builder.manual_dir = manual_dir
    if not os.path.isfile(os.path.join(manual_dir, builder.archive_name)):
        reason = check_reachable(builder.download_url)
        if reason:
            raise KganError(offline_message(builder, reason))
    config = tfds.download.DownloadConfig(manual_dir=manual_dir, try_download_gcs=False)
    try:
        builder.download_and_prepare(download_config=config)
    except KganError:
        raise
    except NonMatchingChecksumError as error:
        _remove_partial_downloads(builder)
        expected = builder.expected_url_info()
        got = re.search(r"Got: UrlInfo\(size=.*?checksum='(\w+)'", str(error))
        raise KganError(
            f"{builder.archive_name} from {builder.download_url} has the wrong checksum "
            f"(sha256 {got.group(1) if got else '?'}, expected {expected.checksum if expected else '?'}); "
            f"nothing was prepared: delete the file and rerun, or set {CHECKSUMS_ENV} to a "
            "checksums.tsv listing your copy"
        ) from None
    except tfds.download.DownloadError as error:
        _remove_partial_downloads(builder)
        raise KganError(offline_message(builder, str(error).splitlines()[0])) from None
    except OSError as error:
        # requests' ConnectionError is an OSError too; so are tar/zip read errors.
        _remove_partial_downloads(builder)
        if "://" in str(error) or isinstance(error, ConnectionError):
            raise KganError(offline_message(builder, type(error).__name__)) from None
        raise KganError(f"cannot prepare {builder.name}/{builder.builder_config.name}: {error}") from None
    return builder
