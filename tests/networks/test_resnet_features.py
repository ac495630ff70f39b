"""resnet_features: the ResNet generator's encoder activations for CUT, sharing its weights."""

import numpy as np
import pytest
import tensorflow as tf

from kgan.errors import ConfigError
from kgan.networks import NCE_LAYERS, resnet_features, resnet_generator


def test_paper_layers_shapes_and_values_of_the_generators_layers():
    generator = resnet_generator(32, n_blocks=6, base_filters=4)
    features = resnet_features(generator)
    x = tf.random.stateless_uniform([3, 32, 48, 3], [1, 2], -1.0, 1.0)
    outputs = features(x)
    # Padded input (+3 each side), d2k at 1/2, d4k at 1/4, residual blocks at 1/4 (k = 4).
    assert [tuple(o.shape) for o in outputs] == [
        (3, 38, 54, 3), (3, 16, 24, 8), (3, 8, 12, 16), (3, 8, 12, 16), (3, 8, 12, 16)]
    np.testing.assert_allclose(outputs[0][:, 3:-3, 3:-3], x)
    block4 = tf.keras.Model(generator.input, generator.get_layer("block4_add").output)(x)
    np.testing.assert_allclose(outputs[-1], block4, atol=1e-6)
    assert features.name == "resnet_generator_6_features"


def test_antialiased_generator_gives_the_papers_layers_at_their_resolutions():
    # CUT's code (antialias on): layer 4 is down0's stride-1 conv at full size, layer 8 down1's
    # at half size, before the blurs that subsample them.
    generator = resnet_generator(32, n_blocks=5, base_filters=4, downsample="antialias",
                                 upsample="antialias")
    outputs = resnet_features(generator)(tf.zeros([1, 32, 48, 3]))
    assert [tuple(o.shape) for o in outputs] == [
        (1, 38, 54, 3), (1, 32, 48, 8), (1, 16, 24, 16), (1, 8, 12, 16), (1, 8, 12, 16)]
    names = [layer.name for layer in generator.layers]
    assert names.index("down0_blur") > names.index("down0_conv")
    assert names.index("down1_conv") > names.index("down0_blur")


def test_shares_the_generators_weights_and_leaves_it_unchanged():
    generator = resnet_generator(32, n_blocks=1, base_filters=4)
    names = [layer.name for layer in generator.layers]
    features = resnet_features(generator, ["down0_conv"])
    kernel = generator.get_layer("down0_conv").kernel
    kernel.assign(tf.zeros_like(kernel))
    assert float(tf.reduce_max(tf.abs(features(tf.ones([1, 32, 32, 3]))))) == 0.0
    assert [layer.name for layer in generator.layers] == names
    assert len(generator.outputs) == 1 and features.count_params() < generator.count_params()


@pytest.mark.parametrize("layers, missing", [(NCE_LAYERS, "block4_add"), (["nowhere"], "nowhere")])
def test_an_absent_layer_is_a_one_line_config_error(layers, missing):
    generator = resnet_generator(32, n_blocks=2, base_filters=4)
    with pytest.raises(ConfigError, match=f"has no layer '{missing}'") as error:
        resnet_features(generator, layers)
    assert "\n" not in str(error.value)
