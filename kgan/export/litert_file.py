"""LiteRT (TFLite) files of a generator: converted by TensorFlow's `tf.lite`, run by the LiteRT
interpreter (`pip install "kgan[litert]"`, ai-edge-litert).

The file's `serving_default` signature maps `images` float32 [N, H, W, 3] in [-1, 1] to
`translated` float32 [N, H, W, 3] in [-1, 1]. N, H and W are dynamic (shape signature
[-1, -1, -1, 3]): the interpreter's signature runner resizes the input tensor to each call's
shape and reallocates (`Interpreter.resize_tensor_input` + `allocate_tensors` with the plain
interpreter API). H and W must be multiples of the generator's stride, which the file records
in its `kgan` metadata entry but does not check. Weights are float32, or float16 to make the
file half as large (`weights`): the interpreter dequantizes those at load time and computes
in float32 either way. (int8 dynamic-range quantization converts too, but its hybrid kernels
ran a 256 px U-Net 26x slower than float32 on the CPU: not offered.)
"""

import json
import os

import tensorflow as tf

from kgan.errors import KganError
from kgan.export.cli import error_reason
from kgan.export.extras import import_extra
from kgan.export.runners import INPUT_NAME, METADATA_KEY, OUTPUT_NAME, ArrayRunner

WEIGHTS = ("float32", "float16")
_FILE_IDENTIFIER = b"TFL3"


def litert_bytes(function, variables, metadata, weights="float32"):
    """Convert a traced generator to a LiteRT flatbuffer.

    Args:
        function: `tf.function` with the input signature float32 [None, None, None, 3] named
            `images`, returning `{"translated": float32 [N, H, W, 3]}`.
        variables: a `tf.Module` tracking the generator's `tf.Variable`s, which the converter
            folds into constants.
        metadata: JSON-serialisable dict, stored as the `kgan` metadata entry.
        weights: "float32" or "float16".

    Returns:
        bytes: the `.tflite` file.

    Raises:
        KganError: ai-edge-litert is not installed, or the converter fails.
    """
    import_extra("ai_edge_litert.interpreter", "litert")
    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [function.get_concrete_function()], variables)
    if weights == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    try:
        flatbuffer = converter.convert()
    except Exception as error:  # noqa: BLE001 - ConverterError and the MLIR passes' errors.
        raise KganError(f"the LiteRT converter cannot convert the generator: "
                        f"{error_reason(error)}") from None
    return with_metadata(flatbuffer, json.dumps(metadata, sort_keys=True).encode())


def with_metadata(flatbuffer, value):
    """`flatbuffer` (a .tflite file's bytes) with the metadata entry `kgan` set to `value`."""
    schema = import_extra("ai_edge_litert.schema_py_generated", "litert")
    flatbuffers = import_extra("flatbuffers", "litert")
    model = schema.ModelT.InitFromObj(schema.Model.GetRootAs(flatbuffer, 0))
    buffer = schema.BufferT()
    buffer.data = list(value)
    model.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name, entry.buffer = METADATA_KEY, len(model.buffers) - 1
    model.metadata = [m for m in model.metadata or [] if m.name != METADATA_KEY.encode()] + [entry]
    builder = flatbuffers.Builder(len(flatbuffer) + 1024)
    builder.Finish(model.Pack(builder), file_identifier=_FILE_IDENTIFIER)
    return bytes(builder.Output())


def read_metadata(flatbuffer):
    """The `kgan` metadata entry of a .tflite file's bytes, as text; None when absent."""
    schema = import_extra("ai_edge_litert.schema_py_generated", "litert")
    model = schema.Model.GetRootAs(flatbuffer, 0)
    for index in range(model.MetadataLength()):
        entry = model.Metadata(index)
        if entry.Name() == METADATA_KEY.encode():
            return model.Buffers(entry.Buffer()).DataAsNumpy().tobytes().decode()
    return None


class LiteRTRunner(ArrayRunner):
    """A LiteRT export (path or bytes), run by the LiteRT interpreter (XNNPACK on the CPU)."""

    format_name, kind = "litert", "a LiteRT model"

    def load(self, model):
        litert = import_extra("ai_edge_litert.interpreter", "litert")
        if isinstance(model, str):
            with open(model, "rb") as file:
                model = file.read()
        metadata = read_metadata(model)
        interpreter = litert.Interpreter(model_content=model, num_threads=_cores())
        self._run = interpreter.get_signature_runner("serving_default")
        return metadata

    def run(self, images):
        return self._run(**{INPUT_NAME: images})[OUTPUT_NAME]


def _cores():
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
