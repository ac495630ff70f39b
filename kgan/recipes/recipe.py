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

import os

import keras

from kgan.callbacks.best_generator import BestGenerator
from kgan.callbacks.tensorboard import TensorBoardLogger
from kgan.cli import run_reporting_errors
from kgan.precision import precision_policy
from kgan.recipes import distribution
from kgan.recipes import options as shared_options
from kgan.recipes.export import export_generators
from kgan.models.training import on_tensorflow
from kgan.recipes.optimizer import optimizer
from kgan.recipes.run_callbacks import metrics_callbacks, run_folder_callbacks
from kgan.run_folder import RunFolder, export_names


class Recipe:
    """A GAN's training command line: `main(argv=None) -> int` and `parse_args(argv=None)`.

    Subclasses set these class attributes:
        name: "pix2pix": the command is `python -m kgan.recipes.pix2pix` and run folders
            default to runs/pix2pix_<dataset>.
        description: the command's one-line description.
        data: `kgan.recipes.data.PairedData()` or `UnpairedData()`.
        model_class: the `kgan.models.GANModel` subclass it trains; its `EXPORTS` say which
            generators the run saves and exports, its `CURVES` what a sweep report draws.
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
    model_class = None
    sample_grid = None
    image_sizes = "a power of two >= 32"
    norm = "batch"
    gan_loss = "bce"
    upsample = "transpose"
    downsample = "strided"
    older_defaults = {}

    @property
    def exports(self):
        """{generator attribute: (export suffix, description)}: the model class's `EXPORTS`."""
        return self.model_class.EXPORTS

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
        """The argument parser: the shared groups (`kgan.recipes.options`) with the recipe's
        own options among them."""
        return shared_options.build_parser(self)

    def parse_args(self, argv=None):
        """Parse command-line options (and `--config`) into a checked namespace."""
        return shared_options.parse_options(self, argv)

    def build_model(self, options, steps_per_epoch):
        """The compiled and built model these options describe.

        Args:
            options: parsed options.
            steps_per_epoch: optimizer steps per epoch, for the learning-rate schedule.
        """
        model = self.create_model(options)
        model.compile(
            g_optimizer=optimizer(options, steps_per_epoch),
            d_optimizer=optimizer(options, steps_per_epoch),
            adversarial_loss=options.gan_loss,
            # JAX runs a step uncompiled only op by op, a debugging mode many times slower.
            jit_compile=options.jit_compile or not on_tensorflow(),
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
        strategy = distribution.distribution_strategy()
        distribution.check_batch_size(options, strategy)
        chief = distribution.is_chief(strategy)
        with distribution.writable_folder(options.out, chief) as out, \
                distribution.writable_folder(options.export_base, chief) as export_base:
            return self._train(options, strategy, RunFolder(out), export_base)

    def _train(self, options, strategy, folder, export_base):
        # The folder is locked from `prepare` (or `record`, for a new one) to the end.
        keras.utils.set_random_seed(options.seed)
        defaults = {action.dest: action.default for action in self.build_parser()._actions}
        defaults.update(self.older_defaults)
        try:
            folder.prepare(options, defaults, shared_options.RESUMABLE_CHANGES)
            return self._resume_and_fit(options, strategy, folder, export_base)
        except BaseException:
            folder.discard()  # a new folder that got no checkpoint is not left behind
            raise
        finally:
            folder.release()

    def _resume_and_fit(self, options, strategy, folder, export_base):
        # Every worker resumes from the chief's newest checkpoint, the data where it stopped;
        # a worker other than the chief reads the run's folder and writes nothing there.
        chief = folder.path == options.out
        run = folder if chief else RunFolder(options.out)
        checkpoint = run.latest_checkpoint(move_aside=chief, restart=options.restart)
        sources = self.data.sources(options)  # checks every file: once per run
        steps = options.steps_per_epoch or self.data.steps_per_epoch(options, sources)
        with strategy.scope():
            model = self.build_model(options, steps)
        step = run.resume(model, checkpoint, steps, write=chief)
        train, val = self.load_data(options, sources, step)
        folder.record(options, model)

        first, second = next(iter(val.unbatch().batch(options.samples)))
        generators = [getattr(model, name) for name in self.exports]
        metrics = metrics_callbacks(options, val, generators[0], paired=self.data.paired)
        hparams = {k: v for k, v in vars(options).items() if k not in ("out", "config")}
        means = checkpoint.epoch_means if checkpoint else {}
        writers = [
            self.sample_grid(first, second, folder.samples),
            # It logs the sample grid and the metrics the callbacks before it wrote.
            TensorBoardLogger(folder.logs, options.log_every, hparams, folder.samples),
        ]
        # The best generator after the epoch's checkpoint: a kill between the two resumes at
        # that epoch, which finds its val_fid in history.csv (see BestGenerator).
        callbacks = run_folder_callbacks(folder, metrics, options, steps, step, means, writers)
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
        paths = folder.save_generators(model, self.exports)
        saved = ", ".join(os.path.basename(path) for path in paths)
        print(f"wrote {folder.path}: {saved}, history.csv, samples/, checkpoints/")
        if options.export is not None:
            names = export_names(options.export, self.exports)
            export_generators(export_base, list(zip(names, generators, paths)),
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
        return [BestGenerator(folder.best, tuple(self.exports), folder.history, step, steps)]

    def load_data(self, options, sources, start_batch):
        """`self.data.pipelines` of the `sources`, the training pipeline starting at
        `start_batch`, both split batch by batch over the workers of a multi-worker run."""
        train, val = self.data.pipelines(options, sources, start_batch)
        return distribution.shard_by_batch(train), distribution.shard_by_batch(val)

    def run_cli(self, argv=None):
        """`main(argv)` (default `sys.argv`) with kgan errors as one line: exit 2 for options,
        1 otherwise, 130 after Ctrl-C, 143 after SIGTERM; the exit status of `python -m`."""
        return run_reporting_errors(
            self.main, argv,
            interrupted="rerun the same command to resume from the last checkpoint")
