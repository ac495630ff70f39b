"""kgan.cli's one-line errors for what TensorFlow and Keras raise with long messages."""

import pytest
import tensorflow as tf

from kgan import unet_generator
from kgan import cli
from kgan.cli import load_keras_model, run_reporting_errors
from kgan.errors import KganError


def test_an_out_of_memory_error_is_one_line_suggesting_a_smaller_batch(capsys):
    def allocate_16_tib():
        return tf.zeros([2**42])  # TensorFlow's own ResourceExhaustedError, on any machine

    assert run_reporting_errors(allocate_16_tib) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("error: out of memory (OOM when allocating tensor with "
                          "shape[4398046511104] and type float")
    assert "{{function_node" not in err
    assert err.rstrip().endswith("pass a smaller --batch-size or --image-size, or free the "
                                 "memory other processes hold")


def test_a_truncated_keras_file_is_reported_as_truncated_not_missing(tmp_path):
    path = tmp_path / "generator.keras"
    unet_generator(base_filters=8).save(path)
    path.write_bytes(path.read_bytes()[:path.stat().st_size // 2])
    with pytest.raises(KganError) as error:
        load_keras_model(str(path))
    assert str(error.value) == (f"cannot load {path}: not a complete .keras file (a truncated "
                                "or damaged zip archive); save or copy it again")


@pytest.mark.parametrize("text, accepted", [("0", True), ("4294967295", True), ("-1", False),
                                            ("4294967296", False)])
def test_a_seed_is_a_whole_number_keras_can_take(text, accepted):
    if accepted:
        assert cli.random_seed(text) == int(text)
    else:
        with pytest.raises(Exception, match=r"expected a number in \[0, 4294967295\]"):
            cli.random_seed(text)
