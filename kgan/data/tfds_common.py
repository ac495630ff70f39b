"""The TFDS plumbing kgan's builders share: checksums, manual archives, offline errors.

Checksums are registered the TFDS way, in `checksums.tsv` beside the builder's module (url,
size, sha256, file name). They are matched by file name, so an archive from a mirror is
checked against the same entries. `KGAN_TFDS_CHECKSUMS` (or the `checksums_file` builder
argument) names an extra file in the same format whose entries win: for archives you built
yourself, and for tests.

Manual download: put the archive in the manual dir (`<tfds data_dir>/downloads/manual/`
unless `DownloadConfig(manual_dir=...)` says otherwise) and the set is prepared from it
with no network access. Without it, `prepare` checks that the host answers before TFDS
(which sets no connect timeout) starts, and says where to put the file when it does not.
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
from tensorflow_datasets.core.download.extractor import ExtractError

from kgan.data.folders import decode_rgb, split_side_by_side
from kgan.errors import KganError

CHECKSUMS_ENV = "KGAN_TFDS_CHECKSUMS"
CONNECT_TIMEOUT_S = 5


class LocalCodePathMixin:
    """For TFDS builders defined in kgan: the builder's code path is its module file."""

    @tfds_utils.classproperty
    @classmethod
    def code_path(cls):
        # TFDS 4.9.10 imports the backport `importlib_resources` here, which it only
        # requires on Python < 3.9; the plain file path is what it falls back to anyway.
        # The checksums.tsv beside this path is the builder's registered checksums.
        return epath.Path(inspect.getfile(cls))


def load_checksums(path):
    """TFDS checksums file (url, size, sha256[, file name]) -> {file name: UrlInfo}."""
    infos = {}
    for url, info in tfds_checksums.load_url_infos(path).items():
        name = info.filename or os.path.basename(urllib.parse.urlparse(url).path)
        infos[name] = tfds_checksums.UrlInfo(size=info.size, checksum=info.checksum, filename=name)
    return infos


class LocalChecksumsMixin(LocalCodePathMixin):
    """For TFDS builders: registered checksums matched by file name, local overrides, and
    the manual-dir path remembered for `prepare`.

    Subclasses define `download_url`. The registered entries come from the builder's own
    `url_infos` (TFDS's checksums file); `checksums_file` / $KGAN_TFDS_CHECKSUMS entries win.
    """

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


def tfds_split(builder, split, fallback=None):
    """`split` if the prepared builder has it, else `fallback` if it has that; else KganError."""
    splits = builder.info.splits
    if split not in splits and fallback in splits:
        split = fallback
    if split not in splits:
        raise KganError(
            f"{builder.name}/{builder.builder_config.name} has splits {', '.join(sorted(splits))}, "
            f"not {split!r}"
        )
    return split


def side_by_side_features(encoding_format, key_name):
    """The features of kgan's A|B builders: `image` (one A|B image per pair, A left, read
    read back by `images` and `split_side_by_side`, or by `split_pair`) and a text key naming the example (`key_name`)."""
    return tfds.features.FeaturesDict({
        "image": tfds.features.Image(shape=(None, None, 3), encoding_format=encoding_format),
        key_name: tfds.features.Text(),
    })


def images(builder, split):
    """The uint8 [H, W, 3] `image` of each example of a prepared builder's split, in order.

    TFDS would decode JPEGs with TensorFlow's default fast IDCT, whose result depends on the
    CPU; they are read as bytes and decoded exactly instead (`kgan.data.folders.decode_rgb`).
    """
    ds = builder.as_dataset(split=split, shuffle_files=False,
                            decoders={"image": tfds.decode.SkipDecoding()})
    return ds.map(lambda example: decode_rgb(example["image"]),
                  num_parallel_calls=tf.data.AUTOTUNE)


def split_pair(example):
    """A `pix2pix/*` or `bluemarble/*` example -> `(a, b)` uint8 [H, W/2, 3] halves."""
    return split_side_by_side(example["image"])


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


def _remove_partial_preparation(builder):
    """Delete what a failed extraction or preparation left: TFDS's `incomplete.*` data
    folders of this builder and the half-extracted archive."""
    version_parent = os.path.dirname(os.fspath(builder.data_dir))
    extracted = os.path.join(os.fspath(builder.data_dir_root), "downloads", "extracted")
    for folder, match in ((version_parent, "incomplete"), (extracted, builder.archive_name)):
        if os.path.isdir(folder):
            for entry in os.listdir(folder):
                if match in entry:
                    path = os.path.join(folder, entry)
                    if os.path.isdir(path):
                        shutil.rmtree(path, ignore_errors=True)
                    else:
                        os.remove(path)


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
    except ExtractError as error:
        _remove_partial_downloads(builder)
        _remove_partial_preparation(builder)
        reason = str(error).strip().splitlines()[-1].strip(" -")
        raise KganError(
            f"{builder.archive_name} is damaged ({reason}): nothing was prepared; delete "
            f"{os.path.join(builder.manual_dir or '<tfds dir>/downloads/manual', builder.archive_name)} "
            "and download it again, or unpack a good copy and pass its folder with --data-dir"
        ) from None
    except tfds.download.DownloadError as error:
        _remove_partial_downloads(builder)
        raise KganError(offline_message(builder, str(error).splitlines()[0])) from None
    except OSError as error:
        # requests' ConnectionError is an OSError too; so are tar/zip read errors.
        _remove_partial_downloads(builder)
        _remove_partial_preparation(builder)
        if "://" in str(error) or isinstance(error, ConnectionError):
            raise KganError(offline_message(builder, type(error).__name__)) from None
        raise KganError(f"cannot prepare {builder.name}/{builder.builder_config.name}: {error}") from None
    return builder
