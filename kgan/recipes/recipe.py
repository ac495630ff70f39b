"""The skeleton of a training command line: a recipe declares its model, the rest is here.

A recipe is a `Recipe` subclass that says which data it trains on, which generators it saves
and exports, how its sample grids look, and how its model is built and what losses it is
compiled with; the option groups (data, model, objective, training, output, evaluation,
performance, `--config`), the run folder, callbacks, resuming, evaluation and export are
the same for every recipe. A recipe module ends with

    RECIPE = MyRecipe()
    main, parse_args, build_model = RECIPE.main, RECIPE.parse_args, RECIPE.build_model

and `if __name__ == "__main__": raise SystemExit(RECIPE.run_cli())`.
"""

import argparse
import os

import keras

from kgan import losses
from kgan.callbacks.best_generator import BestGenerator
from kgan.callbacks.checkpoint import CHECKPOINT_MINUTES, MAX_LOSS
from kgan.callbacks.tensorboard import TensorBoardLogger
from kgan.cli import non_negative_int, non_negative_float, positive_int, random_seed
from kgan.errors import ConfigError
from kgan.models.training import PRECISIONS, default_precision, precision_policy, resolve_precision
from kgan.networks import DOWNSAMPLING, RECEPTIVE_FIELDS, UPSAMPLING
from kgan.networks.layers import NORMS
from kgan.recipes import common
from kgan.recipes.data import add_data_arguments
from kgan.export.signatures import DEFAULT_MAX_PIXELS
from kgan.run_folder import GENERATORS, KEEP_CHECKPOINTS, RunFolder, export_names


# The image sizes the recipes train at (the networks' smallest, and what fits a GPU).
MIN_IMAGE_SIZE, MAX_IMAGE_SIZE = 32, 512


class Recipe:
    """A GAN's training command line: `main(argv=None) -> int` and `parse_args(argv=None)`.

    Subclasses set these class attributes:
        name: "pix2pix": the command is `python -m kgan.recipes.pix2pix` and run folders
            default to runs/pix2pix_<dataset>.
        description: the command's one-line description.
        data: `kgan.recipes.data.PairedData()` or `UnpairedData()`.
        generators: the model's generator attributes, saved as `<attribute>.keras` and
            exported by `--export` (names and suffixes: `kgan.run_folder.GENERATORS`); the
            first one is evaluated by `--eval-every`.
        sample_grid: the sample callback class, called as `(first, second, directory)` with
            `--samples` held-out (input, target) examples.
        image_sizes: which `--image-size` values the networks take, for the help.
        norm, gan_loss, upsample, downsample: the defaults of `--norm`, `--gan-loss`,
            `--upsample` and `--downsample`.
        older_defaults: {option: value} for options whose default changed: the value a run
            folder written before (its config.toml lacks the option) was trained with.

    and implement `add_model_arguments`, `create_model` and `loss_arguments` (and, for checks
    argparse cannot make, `check`).
    """

    name = None
    description = None
    data = None
    generators = ("generator",)
    sample_grid = None
    image_sizes = "a power of two >= 32"
    norm = "batch"
    gan_loss = "bce"
    upsample = "transpose"
    downsample = "strided"
    older_defaults = {}

    def add_model_arguments(self, model, objective):
        """Add the recipe's own options to the "model" and "objective" argparse groups."""
        raise NotImplementedError

    def create_model(self, options):
        """The uncompiled model these options describe."""
        raise NotImplementedError

    def loss_arguments(self, options):
        """`model.compile` keyword arguments for the losses besides `adversarial_loss`."""
        raise NotImplementedError

    def check(self, options):
        """Raise ConfigError for a combination of options the recipe cannot train."""

    def build_parser(self):
        """The argument parser: the shared groups with the recipe's options among them."""
        parser = argparse.ArgumentParser(prog=f"python -m kgan.recipes.{self.name}",
                                         description=self.description)
        data = add_data_arguments(parser, self.data)
        data.add_argument("--image-size", type=positive_int, default=256,
                          help=f"square training size, {self.image_sizes} (default 256)")
        model = parser.add_argument_group("model")
        model.add_argument("--base-filters", type=positive_int, default=64,
                           help="filters of the first G and D layers (default 64)")
        model.add_argument("--norm", default=self.norm, choices=NORMS,
                           help=f"normalisation ({self.norm})")
        model.add_argument("--patch", type=int, default=70, choices=RECEPTIVE_FIELDS,
                           help="discriminator receptive field in pixels (default 70)")
        model.add_argument("--upsample", default=self.upsample, choices=UPSAMPLING,
                           help="generator upsampling: transposed conv, nearest resize + conv, "
                           f"or CUT's binomial upsample + conv (default {self.upsample})")
        model.add_argument("--downsample", default=self.downsample, choices=DOWNSAMPLING,
                           help="G and D downsampling: strided conv, or CUT's stride-1 conv + "
                           f"[1,2,1] blur subsampling (default {self.downsample})")
        objective = parser.add_argument_group("objective")
        objective.add_argument("--gan-loss", default=self.gan_loss,
                               choices=tuple(losses.ADVERSARIAL),
                               help=f"adversarial loss (default {self.gan_loss})")
        self.add_model_arguments(model, objective)
        self._add_training_arguments(parser)
        self._add_output_arguments(parser)
        self._add_evaluation_arguments(parser)
        performance = parser.add_argument_group("performance")
        performance.add_argument("--precision", default="auto", choices=("auto",) + PRECISIONS,
                                 help="Keras dtype policy: float32 weights, computing in "
                                 "float32, bfloat16 or float16 (with loss scaling); default "
                                 f"auto: {default_precision()} on this machine (bfloat16 where "
                                 "the CPU or GPU computes it natively)")
        performance.add_argument("--jit-compile", action="store_true",
                                 help="compile the train step with XLA")
        parser.add_argument("--config", metavar="FILE.toml",
                            help="TOML file whose keys are these options (image-size = 64); "
                            "flags given on the command line win over the file")
        return parser

    def _add_training_arguments(self, parser):
        training = parser.add_argument_group("training")
        training.add_argument("--epochs", type=positive_int, default=200)
        training.add_argument("--decay-epochs", type=non_negative_int,
                              help="last epochs over which the learning rate decays linearly "
                              "to zero (default: half of --epochs)")
        training.add_argument("--steps-per-epoch", type=positive_int,
                              help=f"default: {self.data.epoch}")
        training.add_argument("--batch-size", type=positive_int, default=1)
        training.add_argument("--lr", type=non_negative_float, default=2e-4)
        training.add_argument("--beta1", type=non_negative_float, default=0.5)
        training.add_argument("--seed", type=random_seed, default=0)
        training.add_argument("--max-loss", type=non_negative_float, default=MAX_LOSS,
                              metavar="X", help="stop (exit 1, nothing saved) when a logged "
                              f"loss's epoch mean passes X in absolute value: the run diverged "
                              f"(default {MAX_LOSS:g}; 0: off, only NaN/Inf stop it)")

    def _add_output_arguments(self, parser):
        output = parser.add_argument_group("output")
        output.add_argument("--out", help=f"run folder (default runs/{self.name}_<dataset>); "
                            "rerunning with the same --out resumes")
        output.add_argument("--samples", type=positive_int, default=4,
                            help=f"{self.data.samples} (default 4)")
        where = " and ".join(f"{GENERATORS[g][1]} to EXPORT_BASE/NAME{GENERATORS[g][0]}/VERSION/"
                             for g in self.generators)
        output.add_argument("--log-every", type=positive_int, default=50, metavar="N",
                            help="write the losses to the run's logs/ for TensorBoard every N "
                            "steps (default 50); epoch logs, sample grids and the options "
                            "(HParams) go there too")
        output.add_argument("--export", metavar="NAME",
                            help=f"after training, export {where} (VERSION: the next free "
                            "one), as SavedModels for TF Serving like python -m kgan.export; "
                            "NAME: 1-64 letters, digits, '_', '-' or '.'")
        output.add_argument("--export-base", default="savedmodels", metavar="DIR",
                            help="folder of exports for --export (default savedmodels)")
        output.add_argument("--max-pixels", type=positive_int, default=DEFAULT_MAX_PIXELS,
                            metavar="N", help="--export: the largest image (height x width) "
                            f"the export translates (default {DEFAULT_MAX_PIXELS}, 4096x4096)")
        output.add_argument("--checkpoint-minutes", type=non_negative_float,
                            default=CHECKPOINT_MINUTES, metavar="M",
                            help="checkpoint every M minutes as well as after every epoch "
                            f"(default {CHECKPOINT_MINUTES:g}; 0: off): a killed run resumes "
                            "from its last checkpoint, mid-epoch too")
        output.add_argument("--checkpoint-steps", type=non_negative_int, default=0, metavar="N",
                            help="also checkpoint every N steps (default 0: off)")
        output.add_argument("--keep-checkpoints", type=positive_int, default=KEEP_CHECKPOINTS,
                            metavar="K", help=f"checkpoints kept, the newest (default "
                            f"{KEEP_CHECKPOINTS}); an unreadable one is renamed "
                            "broken_step_N and the one before is used")
        output.add_argument("--restart", action="store_true",
                            help="train again from step 0 in a run folder whose checkpoints "
                            "are all unreadable (refused without it; the broken ones are "
                            "kept); a readable checkpoint is always resumed")

    def _add_evaluation_arguments(self, parser):
        evaluation = parser.add_argument_group("evaluation")
        evaluation.add_argument("--eval-every", type=non_negative_int, default=0, metavar="N",
                                help="every N epochs, write FID, precision and recall"
                                f"{self.data.evaluated} into history.csv as val_fid, "
                                "val_precision, ... (default 0: off); the FID Inception "
                                "weights are downloaded (95 MB) and cached on first use; "
                                "offline the run warns and trains on")
        evaluation.add_argument("--eval-images", type=positive_int, default=256, metavar="N",
                                help="held-out images per evaluation (default 256, at least "
                                f"{common.MIN_EVAL_IMAGES}; fewer when the split has fewer)")

    def parse_args(self, argv=None):
        """Parse command-line options (and `--config`) into a checked namespace."""
        options = common.parse_with_config(self.build_parser(), argv)
        if not MIN_IMAGE_SIZE <= options.image_size <= MAX_IMAGE_SIZE:
            raise ConfigError(f"--image-size must lie in [{MIN_IMAGE_SIZE}, {MAX_IMAGE_SIZE}], "
                              f"got {options.image_size}")
        if options.out is None:
            data = options.data_dir and os.path.basename(os.path.normpath(options.data_dir))
            options.out = os.path.join("runs", f"{self.name}_{data or options.dataset}")
        if options.decay_epochs is None:
            options.decay_epochs = options.epochs // 2
        if options.decay_epochs > options.epochs:
            raise ConfigError(f"--decay-epochs must lie in [0, --epochs={options.epochs}], "
                              f"got {options.decay_epochs}")
        options.precision = resolve_precision(options.precision)
        self.check(options)
        if options.export is not None:
            common.check_export(options, export_names(options.export, self.generators))
        common.check_eval(options)
        return options

    def build_model(self, options, steps_per_epoch):
        """The compiled and built model these options describe.

        Args:
            options: parsed options.
            steps_per_epoch: optimizer steps per epoch, for the learning-rate schedule.
        """
        model = self.create_model(options)
        model.compile(
            g_optimizer=common.optimizer(options, steps_per_epoch),
            d_optimizer=common.optimizer(options, steps_per_epoch),
            adversarial_loss=options.gan_loss, jit_compile=options.jit_compile,
            **self.loss_arguments(options),
        )
        if not model.built:
            # Image pools get their buffers here, so a checkpoint can be loaded into them.
            model.build((None, options.image_size, options.image_size, 3))
        return model

    def main(self, argv=None):
        """Train from command-line options; returns the exit status."""
        options = self.parse_args(argv)
        print(f"precision: {options.precision}")
        with precision_policy(options.precision):
            return self.train(options)

    def train(self, options):
        """Run the training these options describe into the run folder `options.out`.

        In a multi-worker run (`TF_CONFIG`) every worker trains; only the chief writes the
        run folder and the exports, the others write into temporary folders.
        """
        # First: a multi-worker strategy must configure TensorFlow before any operation runs.
        strategy = common.distribution_strategy()
        common.check_batch_size(options, strategy)
        chief = common.is_chief(strategy)
        with common.writable_folder(options.out, chief) as out, \
                common.writable_folder(options.export_base, chief) as export_base:
            return self._train(options, strategy, RunFolder(out), export_base)

    def _train(self, options, strategy, folder, export_base):
        # The folder is locked from `prepare` (or `record`, for a new one) to the end.
        keras.utils.set_random_seed(options.seed)
        defaults = {action.dest: action.default for action in self.build_parser()._actions}
        defaults.update(self.older_defaults)
        try:
            folder.prepare(options, defaults, common.RESUMABLE_CHANGES)
            return self._resume_and_fit(options, strategy, folder, export_base)
        except BaseException:
            folder.discard()  # a new folder that got no checkpoint is not left behind
            raise
        finally:
            folder.release()

    def _resume_and_fit(self, options, strategy, folder, export_base):
        # Every worker resumes from the chief's newest checkpoint, the data where it stopped.
        run = RunFolder(options.out)
        checkpoint = run.latest_checkpoint(move_aside=folder.path == run.path,
                                           restart=options.restart)
        start = checkpoint.step if checkpoint and checkpoint.step is not None else 0
        sources = self.data.sources(options)  # checks every file: once per run
        train, val, steps = self.load_data(options, sources, start)
        steps = options.steps_per_epoch or steps
        with strategy.scope():
            model = self.build_model(options, steps)
        step = common.resume(folder, run, model, checkpoint, steps)
        if step != start:  # an epoch-end checkpoint of an older kgan: no step recorded
            train = self.load_data(options, sources, step)[0]
        folder.record(options)

        first, second = next(iter(val.unbatch().batch(options.samples)))
        generators = [getattr(model, name) for name in self.generators]
        metrics = common.metrics_callbacks(options, val, generators[0], paired=self.data.paired)
        hparams = {k: v for k, v in vars(options).items() if k not in ("out", "config")}
        means = checkpoint.epoch_means if checkpoint else {}
        writers = [
            self.sample_grid(first, second, folder.samples),
            # It logs the sample grid and the metrics the callbacks before it wrote.
            TensorBoardLogger(folder.logs, options.log_every, hparams, folder.samples),
        ]
        # The best generator after the epoch's checkpoint: a kill between the two resumes at
        # that epoch, which finds its val_fid in history.csv (see BestGenerator).
        callbacks = common.run_folder_callbacks(folder, metrics, options, steps, step, means,
                                                writers)
        callbacks += self._best_generator(options, metrics, folder, step, steps)
        # shuffle=False: the seeded pipeline shuffles (Keras ignores it for a dataset, warning).
        fit = dict(validation_data=val, callbacks=callbacks, shuffle=False,
                   verbose=2 if os.environ.get("CI") else "auto")
        epoch, offset = divmod(step, steps)
        if offset and epoch < options.epochs:
            # The rest of the epoch the checkpoint stopped in, then whole epochs from the
            # next batch on.
            model.fit(train, epochs=epoch + 1, initial_epoch=epoch,
                      steps_per_epoch=steps - offset, **fit)
            epoch += 1
            # A new pipeline: a second iterator of the first would reshuffle its passes.
            train = self.load_data(options, sources, epoch * steps)[0]
        if epoch < options.epochs:
            model.fit(train, epochs=options.epochs, initial_epoch=epoch, steps_per_epoch=steps,
                      **fit)
        paths = folder.save_generators(model, self.generators)
        saved = ", ".join(os.path.basename(path) for path in paths)
        print(f"wrote {folder.path}: {saved}, history.csv, samples/, checkpoints/")
        if options.export is not None:
            names = export_names(options.export, self.generators)
            common.export_generators(export_base, list(zip(names, generators, paths)),
                                     max_pixels=options.max_pixels, folder=folder,
                                     step=max(step, options.epochs * steps))
        return 0

    def _best_generator(self, options, metrics, folder, step, steps):
        """`[BestGenerator]` keeping RUN/best/ when `--eval-every` scores a validation split
        apart from the test split; else [] (a note says why when evaluation is on)."""
        if not metrics:
            return []
        if not self.data.has_validation(options):
            print("eval: the held-out images are the test split (no validation split): the "
                  "run keeps only its final generator, not the best by val_fid")
            return []
        return [BestGenerator(folder.best, self.generators, folder.history, step, steps)]

    def load_data(self, options, sources, start_batch):
        """`self.data.pipelines` of the `sources`, the training pipeline starting at
        `start_batch`, both split batch by batch over the workers of a multi-worker run."""
        train, val, steps = self.data.pipelines(options, sources, start_batch)
        return common.shard_by_batch(train), common.shard_by_batch(val), steps

    def run_cli(self):
        """`main` on `sys.argv` with one-line errors: the exit status of `python -m`."""
        return common.run_cli(self.main, None)
