"""kgan.precision: the precision a run computes in by default, and the dtype policies' scope."""

import keras
import pytest
import tensorflow as tf

from kgan.errors import ConfigError
from kgan import precision


@pytest.mark.parametrize("flags, expected", [
    ("fpu avx512f avx512_bf16 avx512_vnni", True),   # AMD Zen 4, Intel Cooper Lake
    ("fpu avx512f amx_bf16 amx_tile", True),          # Intel Sapphire Rapids
    ("fpu avx2 avx512f avx512_vnni", False),          # no native bfloat16
])
def test_cpu_bfloat16_is_read_from_the_flags(tmp_path, flags, expected):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nmodel name\t: x\nflags\t\t: {flags}\n\n")
    assert precision.cpu_has_bfloat16(str(cpuinfo)) is expected
    assert precision.cpu_has_bfloat16(str(tmp_path / "missing")) is False


@pytest.mark.parametrize("capability, expected", [
    ((9, 0), "mixed_bfloat16"), ((8, 0), "mixed_bfloat16"), ((7, 5), "float32")])
def test_gpus_default_to_bfloat16_from_ampere_on(monkeypatch, capability, expected):
    gpu = tf.config.PhysicalDevice("/physical_device:GPU:0", "GPU")
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: [gpu])
    monkeypatch.setattr(tf.config.experimental, "get_device_details",
                        lambda device: {"compute_capability": capability})
    assert precision.default_precision() == expected
    assert precision.resolve_precision("auto") == expected
    assert precision.resolve_precision("mixed_float16") == "mixed_float16"


@pytest.mark.parametrize("native, expected", [(True, "mixed_bfloat16"), (False, "float32")])
def test_cpus_default_to_bfloat16_where_native(monkeypatch, native, expected):
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: [])
    monkeypatch.setattr(precision, "cpu_has_bfloat16", lambda: native)
    assert precision.default_precision() == expected


def test_policy_applies_inside_and_is_restored():
    with precision.precision_policy("mixed_bfloat16"):
        layer = keras.layers.Dense(2)
        assert layer.compute_dtype == "bfloat16" and layer.dtype == "float32"
    assert keras.mixed_precision.global_policy().name == "float32"
    with pytest.raises(ConfigError):
        with precision.precision_policy("bfloat16"):
            pass
