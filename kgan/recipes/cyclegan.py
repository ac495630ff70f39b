"""Train CycleGAN: `python -m kgan.recipes.cyclegan [--dataset bluemarble] [options]`.

Defaults are the paper's: 256 px, batch 1, Adam(2e-4, beta1 0.5), LSGAN loss, cycle
weight 10 with L1, identity weight 0.5 (relative to the cycle weight), ResNet generators
with 9 blocks and instance norm, 70x70 PatchGANs, a 50-image history pool, jitter
286 -> 256 and flips, and the learning rate held for the first half of the epochs then
decayed linearly to zero. An epoch shows every image of the larger domain once.

The run folder (see `kgan.run_folder`) ends with `generator_ab.keras` (A -> B) and
`generator_ba.keras` (B -> A); its sample grids show A -> B -> A and B -> A -> B rows.
`--export NAME` also writes both as SavedModels for TF Serving, A -> B as NAME and B -> A as
NAME_BtoA; `--eval-every N` adds FID and precision/recall of the A -> B translations of the
test A images (against the test B images) to the history.

Reference: Zhu et al., "Unpaired Image-to-Image Translation using Cycle-Consistent
Adversarial Networks", ICCV 2017.
"""

from kgan.callbacks import CycleSamples
from kgan.cli import non_negative_float, non_negative_int
from kgan.models import CycleGAN
from kgan.networks import RESNET_BLOCKS, patch_discriminator, resnet_generator, unet_generator
from kgan.recipes.options import add_reconstruction_arguments, reconstruction_loss
from kgan.recipes.data import UnpairedData
from kgan.recipes.recipe import Recipe

# --generator: a ResNet (`RESNET_BLOCKS`) or the pix2pix U-Net.
GENERATOR_CHOICES = (*RESNET_BLOCKS, "unet")


class CycleGANRecipe(Recipe):
    """CycleGAN: two generators and two unconditional PatchGANs trained on unpaired domains."""

    name = "cyclegan"
    description = "Train CycleGAN (unpaired image-to-image translation)."
    data = UnpairedData()
    model_class = CycleGAN
    sample_grid = CycleSamples  # A -> G(A) -> F(G(A)) and B -> F(B) -> G(F(B)) rows
    image_sizes = "a multiple of 4 from 32 to 512 (a power of two for --generator unet)"
    norm = "instance"
    gan_loss = "lsgan"

    def add_model_arguments(self, model, objective):
        model.add_argument("--generator", default="resnet9", choices=GENERATOR_CHOICES,
                           help="ResNet with 9 (256 px in the paper) or 6 (128 px) blocks, or "
                           "the pix2pix U-Net (default resnet9)")
        model.add_argument("--pool-size", type=non_negative_int, default=50,
                           help="fakes kept in each discriminator's history pool (default 50; "
                           "0 disables)")
        add_reconstruction_arguments(objective, "cycle", "cycle-consistency (and identity)",
                                     weight=10.0)
        objective.add_argument("--identity-weight", type=non_negative_float, default=0.5,
                               help="identity loss weight relative to --cycle-weight (default "
                               "0.5; 0 disables)")

    def build_generator(self, options, name):
        """One generator of the kind `--generator` names."""
        sampling = dict(upsample=options.upsample, downsample=options.downsample)
        if options.generator == "unet":
            return unet_generator(options.image_size, base_filters=options.base_filters,
                                  norm=options.norm, dropout=0.0, name=name, **sampling)
        return resnet_generator(options.image_size, n_blocks=RESNET_BLOCKS[options.generator],
                                base_filters=options.base_filters, norm=options.norm, name=name,
                                **sampling)

    def create_model(self, options):
        discriminators = [
            patch_discriminator(options.patch, conditional=False,
                                base_filters=options.base_filters, norm=options.norm,
                                downsample=options.downsample, name=name)
            for name in ("discriminator_a", "discriminator_b")
        ]
        return CycleGAN(
            *(self.build_generator(options, name) for name in self.exports), *discriminators,
            pool_size=options.pool_size, augment_on_device=options.augment_on_device,
            seed=options.seed,
        )

    def loss_arguments(self, options):
        return {"cycle_loss": reconstruction_loss(options, "cycle"),
                "cycle_weight": options.cycle_weight,
                "identity_weight": options.identity_weight}


RECIPE = CycleGANRecipe()
main, parse_args, build_model = RECIPE.main, RECIPE.parse_args, RECIPE.build_model

if __name__ == "__main__":
    raise SystemExit(RECIPE.run_cli())
