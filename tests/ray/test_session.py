"""Connecting to Ray: address checks, clear errors, and runtime envs that carry plugins.

No Ray cluster here; the connection test first closes any connection an earlier test left.
"""

from __future__ import annotations

import os
import time

import pytest

from tests import toy_plugin
from tests.ray.cluster import free_port
from zp_evolve.errors import ConfigError, ExecutorError
from zp_evolve.plugins import load_plugins
from zp_evolve.workers import WorkerFactory
from zp_ray import session
from zp_ray.executor import RayExecutor

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_module_roots_are_the_folders_plugins_import_from():
    import zp_ray

    assert session.module_roots([toy_plugin]) == [REPO]
    assert session.module_roots([zp_ray]) == [os.path.join(REPO, "plugins")]
    assert session.module_roots([toy_plugin.TextFitness()]) == [REPO]


def test_worker_runtime_env_adds_plugin_paths_and_thread_caps_but_keeps_user_values():
    env = session.worker_runtime_env(
        {"pip": ["x"], "env_vars": {"OMP_NUM_THREADS": "4", "PYTHONPATH": "/opt/mine"}},
        plugins=[toy_plugin],
        threads=2,
    )
    assert env["pip"] == ["x"]
    assert env["env_vars"]["PYTHONPATH"] == os.pathsep.join(["/opt/mine", REPO])
    assert env["env_vars"]["OMP_NUM_THREADS"] == "4"
    assert env["env_vars"]["MKL_NUM_THREADS"] == "2"


def test_worker_runtime_env_keeps_the_drivers_pythonpath(monkeypatch):
    # a checkout on the driver's PYTHONPATH must win over an installed copy in the actors too
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(["/work/checkout", "/work/checkout/plugins"]))
    env = session.worker_runtime_env(None, plugins=[toy_plugin])
    assert env["env_vars"]["PYTHONPATH"].split(os.pathsep) == ["/work/checkout", "/work/checkout/plugins", REPO]


def test_worker_runtime_env_forwards_plugins_named_in_the_environment(monkeypatch):
    monkeypatch.setenv("ZP_EVOLVE_PLUGINS", "tests.toy_plugin")
    env = session.worker_runtime_env(None)
    assert env["env_vars"]["ZP_EVOLVE_PLUGINS"] == "tests.toy_plugin"
    assert REPO in env["env_vars"]["PYTHONPATH"].split(os.pathsep)


def test_bad_options_are_config_errors_listing_each_problem():
    with pytest.raises(ConfigError) as caught:
        RayExecutor(num_actors=0, chunk_size=0)
    text = str(caught.value)
    assert "executor.num_actors" in text and "executor.chunk_size" in text
    with pytest.raises(ConfigError, match="HOST:PORT"):
        RayExecutor(address="my-cluster")


def test_bounds_are_checked_at_validation_not_only_when_the_executor_starts(tmp_path, cli):
    import yaml

    from tests.conftest import REPO

    plugins = load_plugins()
    issues = plugins.check_spec("executors", {"name": "ray", "num_actors": 0, "num_gpus_per_actor": 1.5}, "executor")
    assert [i.path for i in issues] == ["executor.num_actors", "executor.num_gpus_per_actor"]
    config = yaml.safe_load((REPO / "experiments" / "quickstart.yaml").read_text(encoding="utf-8"))
    config["executor"] = {"name": "ray", "num_actors": 0}
    (tmp_path / "ray0.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    result = cli("validate", str(tmp_path / "ray0.yaml"))
    assert result.returncode == 2 and "executor.num_actors" in result.stderr and "at least 1 (got 0)" in result.stderr


def test_ray_options_are_validated_from_yaml():
    plugins = load_plugins()
    issues = plugins.check_spec("executors", {"name": "ray", "num_actors": "two", "workers": 3}, "executor")
    text = " ".join(str(i) for i in issues)
    assert "executor.num_actors" in text and "unknown option 'workers'" in text


def test_unreachable_cluster_fails_fast_and_says_how_to_start_one():
    import ray

    if ray.is_initialized():  # an earlier test's connection to the test cluster
        ray.shutdown()
    executor = RayExecutor(address=f"127.0.0.1:{free_port()}", connect_timeout_s=2)
    factory = WorkerFactory(fitness={"name": "text_fitness"}, tasks={}, extra_plugins=(toy_plugin,))
    started = time.monotonic()
    with pytest.raises(ExecutorError) as caught:
        executor.start(factory)
    assert time.monotonic() - started < 30
    assert "cannot connect to the Ray cluster" in str(caught.value)
    assert "ray start --head" in str(caught.value)
    assert not ray.is_initialized()
    executor.close()  # harmless after a failed start
