"""TFDS builder for the paired data sets the pix2pix authors publish: `pix2pix/<name>`.

`pix2pix/<name>` for name in facades, maps, cityscapes, edges2shoes, night2day, from
`http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/<name>.tar.gz`. Each archive holds
`<name>/{train,val,test}/*.jpg`, every image A|B side by side (A left). Splits are the
archive's folders, as published (facades 400/100/106, maps 1096/1098, cityscapes
2975/500).

Features: `image` (the original A|B JPEG bytes, stored unchanged: no second JPEG
compression and no PNG blow-up) and `file_name` ("train/1.jpg"); loaders split the halves
on load with `kgan.data.tfds_common.split_pair`. Every image is fully decoded with Pillow
while the set is prepared, and its shape checked, so a damaged archive fails there, not
mid-epoch.

Checksums are registered in `checksums.tsv` next to this file and matched by file name,
so a mirror set with the environment variable `KGAN_PIX2PIX_URL` (or the `base_url` builder
argument) is checked against the same entries; overrides, the manual dir (`<name>.tar.gz`)
and offline errors are `kgan.data.tfds_common`'s.
"""

import dataclasses
import os

import tensorflow_datasets as tfds

from kgan.data.folders import check_image, list_images
from kgan.data.tfds_common import LocalChecksumsMixin, prepare, side_by_side_features
from kgan.errors import ConfigError, KganError

DEFAULT_BASE_URL = "http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/"
BASE_URL_ENV = "KGAN_PIX2PIX_URL"

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


@dataclasses.dataclass
class Pix2pixConfig(tfds.core.BuilderConfig):
    """One published pix2pix archive: `splits` are its split folders."""

    splits: tuple = ()


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
            features=side_by_side_features("jpeg", "file_name"),
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


def pix2pix_builder(name, tfds_dir=None, manual_dir=None, **kwargs):
    """The prepared `pix2pix/<name>` builder (downloading or using the manual dir first).

    Args:
        name: facades, maps, cityscapes, edges2shoes or night2day.
        tfds_dir: TFDS data dir (default: TFDS's, usually ~/tensorflow_datasets).
        manual_dir: where `<name>.tar.gz` may already be (default `<tfds_dir>/downloads/manual`).
        **kwargs: `base_url`, `checksums_file`, forwarded to `Pix2pix`.
    """
    if name not in PIX2PIX_SETS:
        raise ConfigError(f"unknown pix2pix data set {name!r}: use one of {', '.join(PIX2PIX_SETS)}")
    return prepare(Pix2pix(config=name, data_dir=tfds_dir, **kwargs), manual_dir)
