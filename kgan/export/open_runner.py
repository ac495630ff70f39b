"""`open_runner(path)`: the runner of an export of any format, picked by its path: `FILE.onnx`
runs in ONNX Runtime, `FILE.tflite` in the LiteRT interpreter, anything else is a SavedModel
(a version folder, or a model folder whose latest version is taken)."""

import os

from kgan.errors import KganError
from kgan.export.litert_file import LiteRTRunner
from kgan.export.onnx_file import OnnxRunner
from kgan.export.runners import SavedModelRunner


def open_runner(path):
    """The runner of the export at `path`: `.onnx`, `.tflite`, else a SavedModel folder.

    Raises:
        KganError: nothing there, the format's extra is not installed, or the file is not
            an export of kgan.
    """
    if path.endswith((".onnx", ".tflite")):
        if not os.path.isfile(path):
            raise KganError(f"no exported model at {path}: export one with python -m "
                            "kgan.export --format " + ("onnx" if path.endswith(".onnx")
                                                      else "litert"))
        if path.endswith(".onnx"):
            return OnnxRunner(path)
        return LiteRTRunner(path)
    return SavedModelRunner(path)
