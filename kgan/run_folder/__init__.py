"""The run folder of a training run (`--out`), a package of one module per job: the folder's
layout and resuming (`folder`), its checkpoints, its history.csv, its config.toml, its lock.

    config.toml         the options that shape the run (feed it back with --config)
    checkpoints/        step_NNNNNNNNN/ folders, the newest `--keep-checkpoints` (3): each holds
                        model.weights.h5 (networks, optimizers, image pools) and state.json
                        (the step, steps per epoch, the random-seed states, the options);
                        state.json beside them names the newest; an unreadable one is renamed
                        broken_step_NNNNNNNNN (kept, never rotated away)
    history.csv         one row of losses and metrics per epoch
    samples/            epoch_NNN.png sample grids
    logs/               TensorBoard: step and epoch scalars, sample grids, HParams
    exports.json        the SavedModel versions `--export` wrote, so a rerun does not repeat them
    generator.keras     the final generator(s): generator.keras, or generator_ab.keras and
                        generator_ba.keras for CycleGAN (the model's `EXPORTS`)
    model.json          the model's class and what it declares: the generators it exports
                        (attribute -> export suffix, description) and its loss curves
    best/               with --eval-every on a validation split: the generator(s) of the
                        epoch with the lowest val_fid and best.json (its epoch and val_fid)

Every file is written through `kgan.atomic`, so a killed run leaves complete files (and at
most `.tmp-*` leftovers, removed by the next `prepare`). A checkpoint holds everything that
decides the next step, the data position being its step (the training pipelines are seeded
and start at any batch), so rerunning the same command continues where the newest
checkpoint stopped, and ends with the weights of a run that was never interrupted
(`kgan.run_folder.checkpoints`). While a process trains in the folder it holds the folder's lock
(`kgan.run_folder.lock`): a second command is refused.
"""

from kgan.run_folder.checkpoints import (KEEP_CHECKPOINTS, STATE, NonFiniteError,
                                         latest_checkpoint, load_checkpoint, read_json_object,
                                         save_checkpoint, seed_states)
from kgan.run_folder.config import config_values, load_config, write_config
from kgan.run_folder.folder import (CONFIG, EVALUATION, MODEL, RunFolder, export_names,
                                    model_declarations)
from kgan.run_folder.history import read_history, write_history

__all__ = [
    "CONFIG", "EVALUATION", "KEEP_CHECKPOINTS", "MODEL", "STATE", "NonFiniteError", "RunFolder",
    "config_values", "export_names", "latest_checkpoint", "load_checkpoint", "load_config",
    "model_declarations", "read_history", "read_json_object", "save_checkpoint", "seed_states",
    "write_config", "write_history",
]
