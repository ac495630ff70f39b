"""`--export NAME`: the run's final generators written as SavedModels for TF Serving to
`--export-base`/NAME/VERSION/ (the next free version), as `python -m kgan.export` does, with
the names checked before any training."""

import os

from kgan.errors import ConfigError, KganError
from kgan.export import export_generator, validate_name


def check_export(options, names):
    """Raise ConfigError, before any training, if the `--export` model names cannot be written.

    Args:
        options: parsed options with `export_base`.
        names: the model names the run will export (e.g. NAME and NAME_BtoA).
    """
    for name in names:
        try:
            validate_name(name)
        except KganError as error:
            raise ConfigError(f"--export: {error}") from None
        # The folder, or its nearest existing parent, must be a folder we can write to.
        existing = os.path.abspath(os.path.join(options.export_base, name))
        while not os.path.exists(existing):
            existing = os.path.dirname(existing)
        if not os.path.isdir(existing):
            raise ConfigError(f"--export: {existing} is a file, not a folder")
        if not os.access(existing, os.W_OK | os.X_OK):
            raise ConfigError(f"--export: cannot write into {existing}")


def export_generators(base_dir, exports, max_pixels=None, folder=None, step=None):
    """Export each generator as the next version of its name under `base_dir`; print the paths.

    Args:
        base_dir: the `--export-base` folder.
        exports: (name, generator, keras_path) triples; `keras_path` is where the run saved
            the generator, named in the error so that it can be exported by hand.
        max_pixels: the largest image the export translates (default: the signatures').
        folder, step: the run folder and its step count: a name it exported at that step
            already (a finished run rerun) is not exported again.

    Returns:
        list of str: the version folders written.

    Raises:
        KganError: an export failed (one line, with the `python -m kgan.export` command).
    """
    paths = []
    for name, generator, keras_path in exports:
        previous = folder and folder.previous_export(name, base_dir, step)
        if previous:
            print(f"already exported {previous}")
            paths.append(previous)
            continue
        try:
            path = export_generator(generator, base_dir, name, max_pixels=max_pixels)
        except (KganError, OSError) as error:
            raise KganError(
                f"export of {name} failed: {error}; the trained generator is saved, export it "
                f"with python -m kgan.export --checkpoint {keras_path} --name {name} "
                f"--export-base {base_dir}"
            ) from None
        print(f"exported {path}")
        if folder is not None:
            folder.record_export(name, base_dir, step, path)
        paths.append(path)
    return paths
