"""Optional dependencies of the ONNX and LiteRT formats, imported only when a format is used.

`pip install "kgan[onnx]"` installs tf2onnx (the converter) and onnxruntime (the runtime that
`kgan.translate` and the export's own check run); `pip install "kgan[litert]"` installs
ai-edge-litert (the LiteRT interpreter; the converter is TensorFlow's `tf.lite`).
"""

import importlib

from kgan.errors import KganError
from kgan.export.cli import error_reason

# Format -> (the extra that installs its packages, the modules it needs).
EXTRAS = {
    "onnx": ("onnx", ("tf2onnx", "onnxruntime")),
    "litert": ("litert", ("ai_edge_litert.interpreter",)),
}


def import_extra(module_name, format_name):
    """Import `module_name`, which the export format `format_name` needs.

    Returns:
        the module.

    Raises:
        KganError: it is not installed (or fails to import), in one line naming the
            `pip install "kgan[EXTRA]"` that installs it.
    """
    extra, _ = EXTRAS[format_name]
    try:
        return importlib.import_module(module_name)
    except ImportError as error:
        top = module_name.split(".")[0]
        missing = isinstance(error, ModuleNotFoundError) and error.name in (top, module_name)
        why = "is not installed" if missing else f"cannot be imported ({error_reason(error)})"
        raise KganError(f"{top} {why}, which the {format_name} format needs: "
                        f'pip install "kgan[{extra}]"') from None


def require(format_name):
    """Import every module the export format `format_name` needs ("savedmodel": none).

    Raises:
        KganError: one is missing, naming the `pip install "kgan[EXTRA]"` that installs it.
    """
    for module_name in EXTRAS.get(format_name, (None, ()))[1]:
        import_extra(module_name, format_name)
