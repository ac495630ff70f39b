"""The kill-at-random harness (tests/reliability/kill_harness.py) on a few kill moments: runs
SIGKILLed at seeded random moments and rerun end as the uninterrupted run does."""

import json

import pytest

from reliability import kill_harness


@pytest.mark.slow
def test_runs_killed_at_random_moments_end_like_an_uninterrupted_run(facades_dir, tmp_path,
                                                                      capsys):
    status = kill_harness.main(["--kills", "3", "--kills-per-trial", "3", "--recipes", "pix2pix",
                                "--seed", "1", "--work", str(tmp_path / "kills")])
    summary = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert summary["violations"] == [] and status == 0
    assert summary["kills"] >= 1
