"""Exports of generators: SavedModels in TF Serving's layout `savedmodels/NAME/VERSION/` with
serving signatures, and ONNX / LiteRT files `savedmodels/NAME/VERSION.onnx|.tflite` beside them;
runners that translate image files through any of the three."""

from kgan.export.open_runner import open_runner
from kgan.export.portable import export_file
from kgan.export.savedmodel import export_generator, list_versions, resolve_export, validate_name
from kgan.export.signatures import generator_stride, serving_module, serving_signatures

__all__ = [
    "export_file",
    "export_generator",
    "generator_stride",
    "list_versions",
    "open_runner",
    "resolve_export",
    "serving_module",
    "serving_signatures",
    "validate_name",
]
