"""kgan: image-to-image translation with GANs (pix2pix, CycleGAN, CUT) in Keras 3 / TensorFlow."""

import signal
import sys


def _interrupted_at_start_up(signum, frame):
    """SIGINT handler while a `python -m kgan....` command loads TensorFlow (seconds)."""
    print("interrupted while starting: nothing was written", file=sys.stderr)
    raise SystemExit(130)


def _is_kgan_command():
    argv = getattr(sys, "orig_argv", [])
    return "-m" in argv[:-1] and argv[argv.index("-m") + 1].startswith("kgan.")


# A Ctrl-C during the imports below would print an import traceback; a kgan command ends
# with one line instead. kgan.cli.run_reporting_errors gives Python's handler back before the
# command's work starts, so its own interrupt handling (resume hints, checkpoints) applies.
if _is_kgan_command() and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
    signal.signal(signal.SIGINT, _interrupted_at_start_up)

from kgan import data, losses, metrics
from kgan.errors import ConfigError, KganError
from kgan.models import CUT, CycleGAN, GANModel, Pix2Pix
from kgan.networks import patch_discriminator, resnet_generator, unet_generator
from kgan.schedules import ConstantThenLinearDecay

__version__ = "0.1.0"

__all__ = [
    "CUT", "ConfigError", "ConstantThenLinearDecay", "CycleGAN", "GANModel", "KganError", "Pix2Pix", "data",
    "losses", "metrics", "patch_discriminator", "resnet_generator", "unet_generator",
]
