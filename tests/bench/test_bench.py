"""python -m kgan.bench: every subcommand runs in-process at tiny sizes and prints one JSON line.

No timing thresholds here: the numbers only have to be there, positive and finite.
"""

import json
import math

import keras
import numpy as np
import pytest
from PIL import Image

from kgan.bench.__main__ import main
from kgan.metrics import inception
from kgan.precision import default_precision
from kgan.recipes import cyclegan

TINY = ["--image-size", "32", "--steps", "2", "--warmup", "1"]


def _result(capsys, argv):
    """Run `main(argv)`, check it succeeded and printed one JSON line; return it parsed."""
    assert main(argv) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    return json.loads(lines[0])


def _assert_positive(result, *keys):
    for key in keys:
        value = result[key]
        assert isinstance(value, (int, float)) and math.isfinite(value) and value > 0, (key, value)


def _one_error_line(capsys):
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert "Traceback" not in captured.err
    assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
    return lines[0]


def test_train_pix2pix_prints_rates_and_appends_to_output(capsys, tmp_path):
    output = tmp_path / "results" / "bench.jsonl"
    argv = ["train", "pix2pix", "--base-filters", "8", "--precision", "float32", *TINY,
            "--output", str(output)]
    result = _result(capsys, argv)
    assert result["bench"] == "train" and result["model"] == "pix2pix"
    assert (result["image_size"], result["batch_size"], result["steps"]) == (32, 1, 2)
    assert result["precision"] == "float32" and result["jit_compile"] is False
    assert result["tensorflow"] and result["device"]
    _assert_positive(result, "steps_per_s", "images_per_s", "ms_per_step", "peak_memory_mb",
                     "host_peak_rss_mb", "trainable_parameters")
    assert all(math.isfinite(v) for v in result["final_losses"].values())
    assert result["steps_per_s"] == pytest.approx(1000.0 / result["ms_per_step"], rel=1e-3)
    assert [json.loads(line) for line in output.read_text().splitlines()] == [result]


def test_train_cyclegan_on_bluemarble_batch_builds_the_recipes_model(capsys, tmp_path):
    # The recipe's options from a config file; the bench's --base-filters wins over its 64.
    config = tmp_path / "small.toml"
    config.write_text('generator = "resnet6"\npool-size = 2\nbase-filters = 64\nnorm = "batch"\n')
    argv = ["train", "cyclegan", "--config", str(config), "--base-filters", "4",
            "--batch-size", "2", "--data", "bluemarble", *TINY]
    result = _result(capsys, argv)
    assert (result["model"], result["batch_size"], result["data"]) == ("cyclegan", 2, "bluemarble")
    assert (result["config"], result["base_filters"]) == (str(config), 4)
    _assert_positive(result, "steps_per_s", "images_per_s", "ms_per_step", "peak_memory_mb")
    assert result["images_per_s"] == pytest.approx(2 * result["steps_per_s"], rel=1e-3)
    assert set(result["final_losses"]) >= {"g_loss", "g_cycle", "d_loss_a", "d_loss_b"}
    recipe_options = cyclegan.parse_args(["--config", str(config), "--base-filters", "4",
                                          "--image-size", "32"])
    model = cyclegan.build_model(recipe_options, steps_per_epoch=1)
    assert result["trainable_parameters"] == sum(math.prod(v.shape) for v in model.trainable_weights)


@pytest.mark.parametrize("precision", ["mixed_bfloat16", "mixed_float16"])
def test_train_precision_sets_the_policy_only_for_the_run(capsys, precision):
    argv = ["train", "pix2pix", "--base-filters", "8", "--precision", precision, *TINY]
    result = _result(capsys, argv)
    assert result["precision"] == precision
    _assert_positive(result, "steps_per_s", "images_per_s", "ms_per_step", "peak_memory_mb")
    assert all(math.isfinite(v) for v in result["final_losses"].values())
    assert keras.mixed_precision.global_policy().name == "float32"


def test_train_default_precision_is_the_machines(capsys):
    result = _result(capsys, ["train", "cyclegan", "--base-filters", "4", *TINY])
    assert result["precision"] == default_precision()


@pytest.mark.parametrize("model", ["pix2pix"])
def test_compare_times_float32_against_the_fastest_in_one_process(capsys, model):
    argv = ["compare", model, "--base-filters", "4", "--precisions", "float32", "mixed_bfloat16",
            "--rounds", "1", *TINY]
    result = _result(capsys, argv)
    baseline, candidates = result["baseline"], result["candidates"]
    # The baseline is float32 with separate discriminator calls and Keras' Adam; the
    # candidates keep the model's own choices: FusedAdam, and separate calls for both
    # recipes too (pix2pix's batch norm cannot fuse; CycleGAN learned worse fused).
    assert (baseline["precision"], baseline["fused_discriminator_calls"]) == ("float32", False)
    assert [c["precision"] for c in candidates] == ["float32", "mixed_bfloat16"]
    assert not any(c["fused_discriminator_calls"] for c in candidates)
    assert baseline["optimizer"] == "Adam"  # Keras' own, as before FusedAdam
    assert {c["optimizer"] for c in candidates} == {"FusedAdam"}
    assert result["fastest"] == max(candidates, key=lambda c: c["images_per_s"])
    assert result["speedup"] == pytest.approx(
        result["fastest"]["images_per_s"] / baseline["images_per_s"], rel=1e-3)
    _assert_positive(baseline, "images_per_s", "ms_per_step")


def test_compare_inception(capsys):
    argv = ["compare", "inception", "--image-size", "32", "--batch-size", "2", "--steps", "1",
            "--warmup", "1", "--rounds", "1", "--precisions", "mixed_bfloat16"]
    result = _result(capsys, argv)
    assert result["baseline"]["precision"] == "float32"
    assert result["fastest"]["precision"] == "mixed_bfloat16"
    _assert_positive(result, "speedup")


@pytest.mark.slow
def test_train_jit_compile_reaches_compile(capsys):
    # XLA compilation of the train step takes ~10 s of CPU even at 32 px.
    result = _result(capsys, ["train", "pix2pix", "--base-filters", "8", "--jit-compile", *TINY])
    assert result["jit_compile"] is True
    _assert_positive(result, "steps_per_s", "images_per_s", "ms_per_step", "peak_memory_mb")


def test_data_pipeline_on_a_folder(capsys, tmp_path):
    rng = np.random.default_rng(0)
    (tmp_path / "train").mkdir()
    for i in range(3):
        pixels = rng.integers(0, 256, (48, 96, 3), dtype=np.uint8)  # A|B side by side
        Image.fromarray(pixels).save(tmp_path / "train" / f"{i}.jpg")
    argv = ["data", "--data-dir", str(tmp_path), "--batch-size", "2", *TINY]
    result = _result(capsys, argv)
    assert (result["bench"], result["pairs"], result["dataset"]) == ("data", 3, str(tmp_path))
    _assert_positive(result, "batches_per_s", "images_per_s", "ms_per_batch", "source_s",
                     "peak_memory_mb")


def test_inception_feature_throughput_on_four_images(capsys):
    argv = ["inception", "--weights", "random", "--image-size", "32", "--batch-size", "2",
            "--steps", "1", "--warmup", "1"]
    result = _result(capsys, argv)
    assert (result["bench"], result["weights"]) == ("inception", "random")
    _assert_positive(result, "batches_per_s", "images_per_s", "ms_per_batch", "peak_memory_mb")


def test_inception_without_weights_is_a_one_line_error(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("KGAN_CACHE", str(tmp_path))
    monkeypatch.setattr(inception, "FID_PACKAGE", "kgan_no_such_package")
    assert main(["inception", "--image-size", "32", "--steps", "1", "--warmup", "1"]) == 1
    assert "FID Inception weights are missing" in _one_error_line(capsys)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("format_name, weights", [
    ("savedmodel", "float32"), ("onnx", "float32"), ("litert", "float16")])
def test_export_reports_time_size_and_serving_speed(capsys, format_name, weights):
    # float32 throughout: under a machine's mixed_bfloat16 default the SavedModel computes in
    # bfloat16, and its fused graph rounds differently from eager Keras (1.2e-4 seen under load).
    argv = ["export", "--base-filters", "8", "--format", format_name, "--weights", weights,
            "--precision", "float32", *TINY]
    result = _result(capsys, argv)
    assert (result["bench"], result["format"], result["weights"]) == ("export", format_name, weights)
    _assert_positive(result, "export_s", "size_mb", "load_s", "batches_per_s",
                     "images_per_s", "ms_per_batch", "peak_memory_mb")
    # float32 files match Keras; float16 weights differ, a little.
    assert result["max_abs_diff"] < (1e-4 if weights == "float32" else 1e-2)
    assert result["precision"] == "float32"  # what the file computes in


@pytest.mark.parametrize("argv", [
    [],
    ["train", "gan"],
    ["train", "pix2pix", "--steps", "0"],
    ["train", "pix2pix", "--batch-size", "two"],
    ["data", "--jit-compile"],
    ["train", "pix2pix", "--precision", "float64"],
    ["compare", "pix2pix", "--precisions", "bfloat16"],
    ["export", "--no-such-option"],
    ["export", "--format", "pb"],
])
def test_bad_arguments_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_unsupported_image_size_is_a_one_line_error_with_exit_2(capsys):
    assert main(["train", "pix2pix", "--image-size", "48", "--steps", "1"]) == 2
    assert "image size 48" in _one_error_line(capsys)


def test_export_weights_of_another_format_is_a_one_line_error_with_exit_2(capsys):
    assert main(["export", "--format", "onnx", "--weights", "float16", *TINY]) == 2
    assert "--weights float16 is for --format litert only" in _one_error_line(capsys)
