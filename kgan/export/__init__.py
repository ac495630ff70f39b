"""SavedModel export in TF Serving's layout `savedmodels/NAME/VERSION/`, with serving signatures."""

from kgan.export.savedmodel import export_generator, list_versions, resolve_export, validate_name
from kgan.export.signatures import generator_stride, serving_module, serving_signatures

__all__ = [
    "export_generator",
    "generator_stride",
    "list_versions",
    "resolve_export",
    "serving_module",
    "serving_signatures",
    "validate_name",
]
