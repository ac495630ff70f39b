"""A run's config.toml: the options that shape the run, every one (unset ones as comments),
fed back with --config; and flat TOML files read with one-line errors."""

import os
import tomllib

from kgan.atomic import write_text
from kgan.errors import ConfigError

# Options config.toml does not record: --config itself, and --restart, which must be asked
# for on the command line each time (a config.toml fed back must not restart a run).
NOT_RECORDED = ("config", "restart")


def load_config(path):
    """Read a flat TOML file into a dict, with one-line errors."""
    if os.path.isdir(path):
        raise ConfigError(f"config file {path} is a folder: pass a .toml file")
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"config file {path} is not valid TOML: {error}") from None
    except OSError as error:
        raise ConfigError(f"cannot read config file {path}: {error.strerror}") from None


def _toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def config_values(options):
    """The options config.toml records, as `{"image-size": 256, "data-dir": None, ...}`
    (`NOT_RECORDED` left out); checkpoints record them too."""
    return {key.replace("_", "-"): value for key, value in sorted(vars(options).items())
            if key not in NOT_RECORDED}


def write_config(options, path):
    """Write the options as flat TOML; an unset (None) option is a comment saying so, so the
    file records every option while staying a valid `--config` (`NOT_RECORDED` left out)."""
    lines = [f"{key} = {_toml_value(value)}" if value is not None else f"# {key}: unset"
             for key, value in config_values(options).items()]
    write_text(path, "\n".join(lines) + "\n")
