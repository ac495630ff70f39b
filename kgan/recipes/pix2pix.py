"""Train pix2pix: `python -m kgan.recipes.pix2pix [--dataset bluemarble] [options]`.

Defaults are the paper's: 256 px, batch 1, Adam(2e-4, beta1 0.5), lambda 100 with L1,
vanilla GAN loss, 70x70 PatchGAN, U-Net with skips, jitter 286 -> 256 and flips, and
the learning rate held for the first half of the epochs then decayed linearly to zero.
The run folder (see `kgan.run_folder`) ends with `generator.keras`. `--export NAME` also
writes it as a SavedModel for TF Serving; `--eval-every N` adds FID, precision/recall and
PSNR/SSIM of the validation pairs to the history.

Reference: Isola et al., "Image-to-Image Translation with Conditional Adversarial
Networks", CVPR 2017.
"""

from kgan.callbacks import SampleGrid
from kgan.models import Pix2Pix
from kgan.networks import patch_discriminator, unet_generator
from kgan.recipes.data import PairedData
from kgan.recipes.options import add_reconstruction_arguments, reconstruction_loss
from kgan.recipes.recipe import Recipe


class Pix2PixRecipe(Recipe):
    """pix2pix: a U-Net generator and a conditional PatchGAN trained on aligned pairs."""

    name = "pix2pix"
    description = "Train pix2pix (paired image-to-image translation)."
    data = PairedData()
    model_class = Pix2Pix
    sample_grid = SampleGrid  # input | output | target rows
    norm = "batch"
    gan_loss = "bce"

    def add_model_arguments(self, model, objective):
        model.add_argument("--no-skip", action="store_true",
                           help="U-Net without skip connections (plain encoder-decoder)")
        add_reconstruction_arguments(objective, "recon", "reconstruction", weight=100.0)

    def create_model(self, options):
        generator = unet_generator(options.image_size, base_filters=options.base_filters,
                                   skip_connections=not options.no_skip, norm=options.norm,
                                   upsample=options.upsample, downsample=options.downsample)
        discriminator = patch_discriminator(options.patch, conditional=True,
                                            base_filters=options.base_filters,
                                            norm=options.norm, downsample=options.downsample)
        return Pix2Pix(generator, discriminator, augment_on_device=options.augment_on_device,
                       seed=options.seed)

    def loss_arguments(self, options):
        return {"reconstruction_loss": reconstruction_loss(options, "recon"),
                "reconstruction_weight": options.recon_weight}


RECIPE = Pix2PixRecipe()
main, parse_args, build_model = RECIPE.main, RECIPE.parse_args, RECIPE.build_model

if __name__ == "__main__":
    raise SystemExit(RECIPE.run_cli())
