"""The export as its clients see it: saved_model_cli, gRPC PredictRequest, REST JSON."""

import base64
import io
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

SAVED_MODEL_CLI = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")


def _png(height, width, seed=0):
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def _signature_blocks(text):
    """saved_model_cli's `show --all` text -> {signature name: its block of text}."""
    parts = re.split(r"signature_def\['([^']+)'\]:", text)
    return dict(zip(parts[1::2], parts[2::2]))


def _tensor_info(block, kind, name):
    match = re.search(
        rf"{kind}\['{name}'\] tensor_info:\s+dtype: (\S+)\s+shape: (\([^)]*\))", block
    )
    assert match, f"no {kind}['{name}'] in:\n{block}"
    return match.groups()


def test_saved_model_cli_shows_and_runs_the_signatures(generator, export_dir, tmp_path, missing):
    if not os.path.exists(SAVED_MODEL_CLI):
        missing(f"{SAVED_MODEL_CLI} is absent (it comes with tensorflow)")
    shown = subprocess.run(
        [SAVED_MODEL_CLI, "show", "--dir", export_dir, "--all"],
        capture_output=True, text=True, timeout=300,
    )
    assert shown.returncode == 0, shown.stderr[-3000:]
    blocks = _signature_blocks(shown.stdout)
    assert {"serving_default", "translate_image"} <= set(blocks)
    serving, translate = blocks["serving_default"], blocks["translate_image"]
    assert _tensor_info(serving, "inputs", "images") == ("DT_FLOAT", "(-1, -1, -1, 3)")
    assert _tensor_info(serving, "outputs", "images") == ("DT_FLOAT", "(-1, -1, -1, 3)")
    assert _tensor_info(translate, "inputs", "image_bytes") == ("DT_STRING", "(-1)")
    assert _tensor_info(translate, "outputs", "image_bytes") == ("DT_STRING", "(-1)")
    assert "tensorflow/serving/predict" in serving

    images = np.random.default_rng(1).uniform(-1, 1, (2, 32, 64, 3)).astype("float32")
    np.save(tmp_path / "images.npy", images)
    ran = subprocess.run(
        [
            SAVED_MODEL_CLI, "run", "--dir", export_dir, "--tag_set", "serve",
            "--signature_def", "serving_default",
            "--inputs", f"images={tmp_path / 'images.npy'}", "--outdir", str(tmp_path / "out"),
        ],
        capture_output=True, text=True, timeout=300,
    )
    assert ran.returncode == 0, ran.stderr[-3000:]
    output = np.load(tmp_path / "out" / "images.npy")
    expected = generator(images, training=False).numpy()
    np.testing.assert_allclose(output, expected, atol=1e-5, rtol=0)


def test_grpc_predict_requests_as_the_server_runs_them(generator, export_dir, run_like_tf_serving):
    predict_pb2 = pytest.importorskip(
        "tensorflow_serving.apis.predict_pb2",
        reason="tensorflow-serving-api (a test dependency) is not installed",
    )
    images = np.random.default_rng(2).uniform(-1, 1, (1, 64, 32, 3)).astype("float32")
    data = _png(45, 70)

    float_request = predict_pb2.PredictRequest()
    float_request.model_spec.name = "tiny"
    float_request.model_spec.signature_name = "serving_default"
    float_request.inputs["images"].CopyFrom(tf.make_tensor_proto(images))
    bytes_request = predict_pb2.PredictRequest()
    bytes_request.model_spec.name = "tiny"
    bytes_request.model_spec.signature_name = "translate_image"
    bytes_request.inputs["image_bytes"].CopyFrom(
        tf.make_tensor_proto([data, data], dtype=tf.string)
    )

    responses = []
    for request in (float_request, bytes_request):
        received = predict_pb2.PredictRequest.FromString(request.SerializeToString())
        inputs = {name: tf.make_ndarray(proto) for name, proto in received.inputs.items()}
        outputs = run_like_tf_serving(export_dir, received.model_spec.signature_name, inputs)
        response = predict_pb2.PredictResponse()
        for name, value in outputs.items():
            response.outputs[name].CopyFrom(tf.make_tensor_proto(value))
        responses.append(predict_pb2.PredictResponse.FromString(response.SerializeToString()))

    translated = tf.make_ndarray(responses[0].outputs["images"])
    np.testing.assert_allclose(
        translated, generator(images, training=False).numpy(), atol=1e-5, rtol=0
    )
    pngs = tf.make_ndarray(responses[1].outputs["image_bytes"])
    assert [Image.open(io.BytesIO(png)).size for png in pngs] == [(70, 45), (70, 45)]


def _serve_rest(loaded, body):
    """Answer a TF Serving REST predict body (row format) as the server does."""
    request = json.loads(body)
    signature = loaded.signatures[request.get("signature_name", "serving_default")]
    (input_name, spec), = signature.structured_input_signature[1].items()

    def decode(value):
        if isinstance(value, dict):
            return base64.b64decode(value["b64"])
        return [decode(item) for item in value] if isinstance(value, list) else value

    outputs = signature(**{input_name: tf.constant(decode(request["instances"]), spec.dtype)})
    (output_name, output), = outputs.items()

    def encode(value):
        if isinstance(value, bytes) and output_name.endswith("_bytes"):
            return {"b64": base64.b64encode(value).decode("ascii")}
        return value

    return json.dumps({"predictions": [encode(row) for row in output.numpy().tolist()]})


def test_rest_json_bodies_as_a_client_sends_them(generator, loaded):
    jpeg = io.BytesIO()
    Image.new("L", (33, 50), color=90).save(jpeg, format="JPEG")
    body = json.dumps({
        "signature_name": "translate_image",
        "instances": [
            {"b64": base64.b64encode(_png(40, 24)).decode("ascii")},
            {"b64": base64.b64encode(jpeg.getvalue()).decode("ascii")},
        ],
    })
    predictions = json.loads(_serve_rest(loaded, body))["predictions"]
    images = [Image.open(io.BytesIO(base64.b64decode(row["b64"]))) for row in predictions]
    assert [(image.format, image.mode, image.size) for image in images] == [
        ("PNG", "RGB", (24, 40)), ("PNG", "RGB", (33, 50))
    ]

    pixels = np.random.default_rng(3).uniform(-1, 1, (1, 32, 32, 3)).astype("float32")
    body = json.dumps({"instances": pixels.tolist()})
    predictions = np.array(json.loads(_serve_rest(loaded, body))["predictions"], "float32")
    expected = generator(pixels, training=False).numpy()
    np.testing.assert_allclose(predictions, expected, atol=1e-5, rtol=0)
