"""kgan.recipes.distribution: the cluster TF_CONFIG names, which process is the chief, and
the folders the other workers write into instead of the run's."""

import json
import os
import types

import pytest

from kgan.errors import ConfigError
from kgan.recipes.distribution import cluster_workers, is_chief, writable_folder


def strategy(task_type, task_id, cluster):
    resolver = types.SimpleNamespace(task_type=task_type, task_id=task_id,
                                     cluster_spec=lambda: types.SimpleNamespace(
                                         as_dict=lambda: cluster))
    return types.SimpleNamespace(cluster_resolver=resolver)


def test_the_workers_of_tf_config_are_counted_and_bad_forms_refused(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert cluster_workers() == 0
    cluster = {"chief": ["a:1"], "worker": ["b:1", "c:1"]}
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster, "task": {}}))
    assert cluster_workers() == 3
    monkeypatch.setenv("TF_CONFIG", '{"cluster": {"worker": "b:1"}}')
    with pytest.raises(ConfigError, match="is not of the form"):
        cluster_workers()


def test_the_chief_is_the_chief_task_or_worker_0_without_one():
    assert is_chief(types.SimpleNamespace())  # one process, no cluster
    with_chief = {"chief": ["a:1"], "worker": ["b:1"]}
    assert is_chief(strategy("chief", 0, with_chief))
    assert not is_chief(strategy("worker", 0, with_chief))
    workers = {"worker": ["b:1", "c:1"]}
    assert is_chief(strategy("worker", 0, workers))
    assert not is_chief(strategy("worker", 1, workers))


def test_other_workers_write_into_a_temporary_folder_removed_after(tmp_path):
    with writable_folder(str(tmp_path / "run"), chief=True) as path:
        assert path == str(tmp_path / "run")
    with writable_folder(str(tmp_path / "run"), chief=False) as path:
        assert os.path.basename(path) == "run" and not path.startswith(str(tmp_path))
        os.makedirs(path)
    assert not os.path.exists(path) and not (tmp_path / "run").exists()
