"""Train CUT or FastCUT: `python -m kgan.recipes.cut [--mode cut|fastcut] [options]`.

Defaults are the paper's: 256 px, batch 1, Adam(2e-4, beta1 0.5), LSGAN loss, a ResNet
generator with 9 blocks and instance norm, a 70x70 PatchGAN, both with the CUT code's
antialiased sampling (`--upsample antialias --downsample antialias`; `transpose` and
`strided` give CycleGAN's networks), no image pool, PatchNCE on the
generator's layers 0, 4, 8, 12, 16 (`kgan.networks.NCE_LAYERS`) with 256 patches per layer,
temperature 0.07 and two-layer heads of 256 units, jitter 286 -> 256 and flips. `--mode cut`
(the default) adds the identity PatchNCE term on B images with NCE weight 1 and trains 400
epochs, the last 200 with a linearly decaying rate; `--mode fastcut` has no identity term,
NCE weight 10 and 200 epochs, the last 50 decaying (FastCUT's flip-equivariance is not
implemented). With `--epochs N` alone the decay keeps the mode's share (1/2 or 1/4).

The run folder (see `kgan.run_folder`) ends with `generator.keras` (A -> B); its sample grids
show real A | G(A) | a real B (not G(A)'s counterpart: the domains are unpaired). `--export
NAME` also writes it as a SavedModel for TF Serving; `--eval-every N` adds FID and
precision/recall of the A -> B translations of the test A images (against the test B
images) to the history.

Reference: Park et al., "Contrastive Learning for Unpaired Image-to-Image Translation",
ECCV 2020.
"""

from kgan.callbacks import SampleGrid
from kgan.cli import non_negative_float, positive_int
from kgan.errors import ConfigError
from kgan.models import CUT
from kgan.networks import NCE_LAYERS, RESNET_BLOCKS, patch_discriminator, resnet_generator
from kgan.recipes.options import parse_with_config
from kgan.recipes.data import UnpairedData
from kgan.recipes.recipe import Recipe

# The paper's horse2zebra schedules: epochs at the full rate, then epochs of linear decay.
SCHEDULES = {"cut": (200, 200), "fastcut": (150, 50)}


class CUTRecipe(Recipe):
    """CUT/FastCUT: one ResNet generator, one unconditional PatchGAN, PatchNCE heads.

    `--epochs`, `--decay-epochs` and `--nce-weight` default to the `--mode`'s values: the
    options are parsed once to find the mode, then again by a recipe holding its defaults.

    Args:
        defaults: {option: default} of the mode (None: find the mode first).
    """

    name = "cut"
    description = "Train CUT or FastCUT (contrastive unpaired image-to-image translation)."
    data = UnpairedData()
    model_class = CUT
    sample_grid = SampleGrid  # real A | G(A) | real B rows
    image_sizes = "a multiple of 4 from 32 to 512"
    norm = "instance"
    gan_loss = "lsgan"
    upsample = "antialias"  # the CUT code's default sampling, in G and D
    downsample = "antialias"
    # CUT run folders of kgan before --upsample/--downsample trained CycleGAN's sampling.
    older_defaults = {"upsample": "transpose", "downsample": "strided"}

    def __init__(self, defaults=None):
        self.defaults = defaults

    def add_model_arguments(self, model, objective):
        model.add_argument("--mode", default="cut", choices=tuple(CUT.MODES),
                           help="cut: identity PatchNCE on B, NCE weight 1, 400 epochs (200 "
                           "decaying); fastcut: no identity term, NCE weight 10, 200 epochs "
                           "(50 decaying) (default cut)")
        model.add_argument("--generator", default="resnet9", choices=tuple(RESNET_BLOCKS),
                           help="ResNet with 9 (256 px in the paper) or 6 blocks (default "
                           "resnet9)")
        model.add_argument("--nce-layers", default=",".join(NCE_LAYERS), metavar="NAMES",
                           help="comma-separated generator layers compared by PatchNCE "
                           f"(default {','.join(NCE_LAYERS)}: the paper's 0,4,8,12,16)")
        objective.add_argument("--nce-weight", type=non_negative_float,
                               help="lambda_NCE (default: 1 for cut, 10 for fastcut)")
        objective.add_argument("--nce-temperature", type=non_negative_float, default=0.07,
                               help="PatchNCE temperature tau, > 0 (default 0.07)")
        objective.add_argument("--num-patches", type=positive_int, default=256,
                               help="patches sampled per layer and image (default 256)")

    def build_parser(self):
        parser = super().build_parser()
        parser.set_defaults(**{"epochs": None, "nce_weight": None, **(self.defaults or {})})
        return parser

    def parse_args(self, argv=None):
        """Parse command-line options (and `--config`), with the `--mode`'s defaults."""
        if self.defaults is not None:
            return super().parse_args(argv)
        given = parse_with_config(self.build_parser(), argv)
        constant, decay = SCHEDULES[given.mode]
        epochs = given.epochs or constant + decay
        defaults = {"epochs": constant + decay,
                    "nce_weight": CUT.MODES[given.mode]["nce_weight"]}
        if given.decay_epochs is None:
            defaults["decay_epochs"] = epochs * decay // (constant + decay)
        return CUTRecipe(defaults).parse_args(argv)

    def check(self, options):
        if not options.nce_temperature > 0:
            raise ConfigError(f"--nce-temperature must be > 0, got {options.nce_temperature}")

    def loss_arguments(self, options):
        return {"nce_weight": options.nce_weight,
                "nce_identity": CUT.MODES[options.mode]["nce_identity"],
                "temperature": options.nce_temperature,
                "num_patches": options.num_patches}

    def create_model(self, options):
        generator = resnet_generator(options.image_size, n_blocks=RESNET_BLOCKS[options.generator],
                                     base_filters=options.base_filters, norm=options.norm,
                                     upsample=options.upsample, downsample=options.downsample)
        discriminator = patch_discriminator(options.patch, conditional=False,
                                            base_filters=options.base_filters, norm=options.norm,
                                            downsample=options.downsample)
        nce_layers = [name.strip() for name in options.nce_layers.split(",") if name.strip()]
        return CUT(generator, discriminator, nce_layers=nce_layers,
                   augment_on_device=options.augment_on_device, seed=options.seed)


RECIPE = CUTRecipe()
main, parse_args, build_model = RECIPE.main, RECIPE.parse_args, RECIPE.build_model

if __name__ == "__main__":
    raise SystemExit(RECIPE.run_cli())
