"""Fixtures of the export tests: a tiny U-Net with non-trivial weights, its export, a runner."""

import numpy as np
import pytest
import tensorflow as tf

from kgan.export import export_generator
from kgan.networks import unet_generator

@pytest.fixture(scope="session")
def generator():
    """unet_generator(32, base_filters=8) with perturbed weights, so outputs are not trivial."""
    model = unet_generator(32, base_filters=8)
    rng = np.random.default_rng(0)
    for variable in model.trainable_variables:
        variable.assign(variable + rng.normal(0.0, 0.05, variable.shape).astype("float32"))
    return model


@pytest.fixture(scope="session")
def export_dir(generator, tmp_path_factory):
    """The generator exported once as base/tiny/1."""
    return export_generator(generator, str(tmp_path_factory.mktemp("savedmodels")), name="tiny")


@pytest.fixture(scope="session")
def loaded(export_dir):
    return tf.saved_model.load(export_dir)


@pytest.fixture(scope="session")
def run_like_tf_serving():
    """`run(export_dir, signature_name, inputs) -> outputs` as TF Serving runs a request."""
    return _run_like_tf_serving


def _run_like_tf_serving(export_dir, signature_name, inputs):
    """Run a signature the way TF Serving's C++ server does: session loader, raw feeds.

    The server loads the SavedModel into a session (restoring variables through the saver),
    then feeds the request's tensors to the signature's input tensors with no shape check
    against the signature; `make_callable` would check shapes in Python, so the callable is
    built from raw CallableOptions.
    """
    from tensorflow.core.protobuf import config_pb2

    with tf.Graph().as_default() as graph, tf.compat.v1.Session(graph=graph) as session:
        meta_graph = tf.compat.v1.saved_model.loader.load(session, ["serve"], export_dir)
        signature = meta_graph.signature_def[signature_name]
        input_names = sorted(inputs)
        output_names = sorted(signature.outputs)
        options = config_pb2.CallableOptions(
            feed=[signature.inputs[name].name for name in input_names],
            fetch=[signature.outputs[name].name for name in output_names],
        )
        run = session._make_callable_from_options(options)
        outputs = run(*[inputs[name] for name in input_names])
    return dict(zip(output_names, outputs))
