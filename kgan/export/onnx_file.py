"""ONNX files of a generator: converted by tf2onnx, run by ONNX Runtime (`pip install "kgan[onnx]"`).

The file maps `images` float32 [N, H, W, 3] in [-1, 1] to `translated` float32 [N, H, W, 3]
in [-1, 1] (NHWC, as the SavedModel's `serving_default`), with N, H and W dynamic; H and W
must be multiples of the generator's stride, which the file records in its `kgan` metadata
entry (`metadata_props`) but does not check. It computes in float32.
"""

import json
import logging

from kgan.errors import KganError
from kgan.export.cli import error_reason
from kgan.export.extras import import_extra
from kgan.export.runners import (
    INPUT_NAME,
    METADATA_KEY,
    OUTPUT_NAME,
    ArrayRunner,
)

# Opset 17 (ONNX 1.12, 2022): run by every ONNX Runtime since 1.12.
OPSET = 17


def onnx_bytes(function, metadata):
    """Convert a traced generator to an ONNX model.

    Args:
        function: `tf.function` with the input signature float32 [None, None, None, 3] named
            `images`, returning `{"translated": float32 [N, H, W, 3]}`.
        metadata: JSON-serialisable dict, stored as the `kgan` metadata entry.

    Returns:
        bytes: the serialised ONNX `ModelProto`.

    Raises:
        KganError: tf2onnx is not installed, or cannot convert the generator.
    """
    tf2onnx = import_extra("tf2onnx", "onnx")
    logging.getLogger("tf2onnx").setLevel(logging.ERROR)
    try:
        proto, _ = tf2onnx.convert.from_function(
            function, input_signature=function.input_signature, opset=OPSET)
    except Exception as error:  # noqa: BLE001 - tf2onnx raises plain exceptions of all kinds.
        raise KganError(f"tf2onnx cannot convert the generator: {error_reason(error)}") from None
    entry = proto.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, json.dumps(metadata, sort_keys=True)
    return proto.SerializeToString()


class OnnxRunner(ArrayRunner):
    """An ONNX export (path or bytes), run by ONNX Runtime on the CPU."""

    format_name, kind = "onnx", "an ONNX model"

    def load(self, model):
        onnxruntime = import_extra("onnxruntime", "onnx")
        self._session = onnxruntime.InferenceSession(model, providers=["CPUExecutionProvider"])
        return self._session.get_modelmeta().custom_metadata_map.get(METADATA_KEY)

    def run(self, images):
        return self._session.run([OUTPUT_NAME], {INPUT_NAME: images})[0]
