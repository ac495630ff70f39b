"""TFDS's own `cycle_gan/<name>` builder (horse2zebra, monet2photo, ...), through kgan.

Subclassed only for kgan's TFDS plumbing (`kgan.data.tfds_common`): checksum overrides,
the manual dir (`<name>.zip`) and one-line offline errors. Same name, versions and
prepared files as TFDS's: `tfds.load("cycle_gan/horse2zebra", data_dir=...)` reads what
`cycle_gan_builder` prepares.
"""

from tensorflow_datasets.image_classification import cycle_gan as tfds_cycle_gan

from kgan.data.tfds_common import LocalChecksumsMixin, prepare
from kgan.errors import ConfigError

CYCLE_GAN_SETS = tuple(config.name for config in tfds_cycle_gan.CycleGAN.BUILDER_CONFIGS)
CYCLE_GAN_URL = "https://efrosgans.eecs.berkeley.edu/cyclegan/datasets/"


class CycleGan(LocalChecksumsMixin, tfds_cycle_gan.CycleGAN, skip_registration=True):
    """TFDS's `cycle_gan` builder plus kgan's checksum overrides, manual dir and offline
    errors. Not registered: TFDS's own class keeps the name."""

    @property
    def download_url(self):
        return f"{CYCLE_GAN_URL}{self.builder_config.name}.zip"


def cycle_gan_builder(name, tfds_dir=None, manual_dir=None, **kwargs):
    """The prepared `cycle_gan/<name>` builder (downloading or using the manual dir first).

    Args:
        name: a TFDS cycle_gan config, e.g. "horse2zebra".
        tfds_dir: TFDS data dir (default: TFDS's, usually ~/tensorflow_datasets).
        manual_dir: where `<name>.zip` may already be (default `<tfds_dir>/downloads/manual`).
        **kwargs: `checksums_file`, forwarded to `CycleGan`.
    """
    if name not in CYCLE_GAN_SETS:
        raise ConfigError(f"unknown cycle_gan data set {name!r}: use one of {', '.join(CYCLE_GAN_SETS)}")
    return prepare(CycleGan(config=name, data_dir=tfds_dir, **kwargs), manual_dir)
