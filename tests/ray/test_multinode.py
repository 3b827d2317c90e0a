"""GPS on a real multi-node Ray cluster: a head and two worker nodes, each in its own
network namespace with its own address (tests/ray/netns_cluster.py), the driver in the
head's namespace, token authentication on.

Every run is compared with a serial run of the same seed: the same ``summary.json``, and
each prompt in ``events.jsonl`` once per generation. The faults are the real ones: a
worker node's every process SIGKILLed mid-generation, the driver SIGKILLed mid-run.
The node-loss test comes last, as it leaves the cluster a node short (it is revived for
any test after it). Needs root and ``ip``; skips with the reason elsewhere.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import pytest

from tests import toy_plugin
from tests.conftest import REPO
from tests.ray.conftest import make_search, plugin_package, scored_keys
from tests.ray.multinode import (
    cli_argv, driver_env, evaluation_actors, run_in_head, start_in_head, wait_for_events, write_config,
)
from tests.ray.netns_cluster import NetnsCluster, unavailable
from zp_evolve.rundir import RunDirectory

pytestmark = pytest.mark.slow

SLOW = {"ZP_TOY_SLOW": "0.25"}  # slows the toy fitness on the actors only: faults land mid-generation


@pytest.fixture(scope="module")
def cluster():
    reason = unavailable()
    if reason:
        pytest.skip(f"no multi-node cluster here: {reason}")
    made = NetnsCluster(workers=2, head_cpus=0, worker_cpus=1, dashboard=True)
    try:
        yield made.start()
    finally:
        made.stop()
    assert not made.nodes or not any(os.path.exists(f"/var/run/netns/{n.namespace}") for n in made.nodes)


@pytest.fixture
def nodes(cluster):
    """The cluster with all three nodes alive (a test before may have lost one)."""
    cluster.revive()
    return cluster


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    """The toy search (tests/toy_plugin.py) on the serial executor."""
    tmp = tmp_path_factory.mktemp("serial")
    return make_search(tmp, "serial", {"name": "serial"}).run(), scored_keys(tmp / "serial")


def _toy(tmp_path: Path, executor: dict) -> Path:
    raw = toy_plugin.toy_config(tmp_path)
    raw["executor"] = executor
    return write_config(tmp_path / "run.yaml", raw)


def _summary(run_dir: Path) -> dict:
    return json.loads((run_dir / "summary.json").read_text())


def _worker_ips(cluster: NetnsCluster) -> set[str]:
    return {node.ip for node in cluster.nodes[1:]}


def _spread_search_matches_serial(nodes, tmp_path, edit, **search) -> None:
    """A search run serially, then by `zp-evolve run` in the head's namespace with two actors
    spread over the worker nodes: the same summary, nothing scored twice, scored on both workers."""
    expected = make_search(tmp_path, "serial", {"name": "serial"}, extra=(), edit=edit, **search).run()
    raw = toy_plugin.toy_config(tmp_path, **search)
    edit(raw)
    raw["executor"] = {"name": "ray", "address": nodes.address, "num_actors": 2, "spread": True, "threads_per_actor": 1}
    run_dir = tmp_path / "ray"
    done = run_in_head(nodes, cli_argv("run", str(write_config(tmp_path / "run.yaml", raw)), "--run-dir", str(run_dir),
                                       "--no-progress"), env=driver_env(nodes, plugins=""), timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert _summary(run_dir) == expected
    keys = scored_keys(run_dir)
    assert keys == scored_keys(tmp_path / "serial") and max(keys.values()) == 1
    assert {e["node"] for e in RunDirectory(run_dir).events() if not e["cached"]} == _worker_ips(nodes)


def test_tiny_model_search_spreads_over_both_worker_nodes_and_matches_serial(nodes, tmp_path):
    import torch

    from tests.ray.test_real_model import _real_config
    from zp_hf.tiny import tiny_model

    torch.set_num_threads(1)
    tiny = tiny_model("causal")  # a folder every node sees: the nodes here share one file system
    _spread_search_matches_serial(nodes, tmp_path, _real_config(tiny), generations=1, top_k=2, children_per_parent=2)
    # Placement, two ways: each event names the node that scored it (checked above), and Ray's
    # state API puts this run's two actors on the two worker nodes (the head has no CPUs for them).
    actors = evaluation_actors(nodes)
    last_job = max(a["job_id"] for a in actors)
    assert sorted(a["node_ip"] for a in actors if a["job_id"] == last_job) == sorted(_worker_ips(nodes))


def test_smollm2_search_on_the_cluster_matches_serial(nodes, tmp_path):
    """The real packaged SmolLM2 (~/.cache/zp_evolve, filled by scripts/setup.sh) on a short search."""

    def smollm2(raw: dict) -> None:
        raw["tasks"] = {
            "providers": [{"name": "packaged", "include": ["rotten_tomatoes"]}], "names": ["rotten_tomatoes"],
            "dev": {"size": 8, "per_label": 4}, "test": {"max_examples": 8},
        }
        raw["model"] = {"backend": "hf_causal", "name": "smollm2-135m-instruct", "threads": 1}
        raw["fitness"] = {"name": "dev_metric"}
        raw["mutators"] = [{"name": "edit"}]

    _spread_search_matches_serial(nodes, tmp_path, smollm2, generations=1, top_k=2, children_per_parent=1)

OUTSIDE_PLUGIN = '''"""A plugin that no node has installed: shipped to the actors with runtime_env py_modules."""
import hashlib

from zp_evolve import hookimpl


class OutsideFitness:
    def __init__(self, backend=None):
        pass

    def evaluate(self, jobs):
        return [round(len(set(j.prompt.split())) / 20 + int(hashlib.sha256(j.prompt.encode()).hexdigest()[:6], 16) / 16**7, 6)
                for j in jobs]


@hookimpl
def zp_register_fitness(register):
    register("outside_fitness", OutsideFitness)
'''


def test_outside_plugin_shipped_with_py_modules_runs_on_nodes_that_never_had_it(nodes, tmp_path):
    def outside(raw):
        raw["fitness"] = {"name": "outside_fitness"}

    with plugin_package(tmp_path / "src", "zp_outside_plugin", OUTSIDE_PLUGIN) as (source, module):
        expected = make_search(tmp_path, "serial", {"name": "serial"}, extra=(toy_plugin, module), edit=outside).run()

    # The driver alone sees the plugin: it lives on a tmpfs mounted in the driver's own mount
    # namespace. Every other process (the nodes' workers included) sees an empty folder there.
    mount = tmp_path / "mnt"
    mount.mkdir()
    raw = toy_plugin.toy_config(tmp_path)
    outside(raw)
    raw["executor"] = {
        "name": "ray", "address": nodes.address, "num_actors": 2, "spread": True,
        "runtime_env": {"py_modules": [str(mount / "zp_outside_plugin")]},
    }
    private = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
               f'mount -t tmpfs zpplugin {mount} && cp -r {source} {mount}/ && exec "$0" "$@"']
    run_dir = tmp_path / "ray"
    env = driver_env(nodes, plugins="tests.toy_plugin,zp_outside_plugin", pythonpath=f"{REPO}:{mount}")
    done = run_in_head(nodes, cli_argv("run", str(write_config(tmp_path / "run.yaml", raw)), "--run-dir", str(run_dir),
                                       "--no-progress"), env=env, wrap=private, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert not (mount / "zp_outside_plugin").exists()  # never visible outside the driver
    assert _summary(run_dir) == expected
    assert {e["node"] for e in RunDirectory(run_dir).events() if not e["cached"]} == _worker_ips(nodes)


def test_ray_job_submit_runs_a_search_on_the_cluster(nodes, serial, tmp_path):
    config = _toy(tmp_path, {"name": "ray", "num_actors": 2, "spread": True})  # no address: the job's RAY_ADDRESS
    run_dir = tmp_path / "job"
    runtime_env = {"env_vars": {"PYTHONPATH": str(REPO), "ZP_EVOLVE_PLUGINS": "tests.toy_plugin"}}
    submit = [
        str(Path(sys.executable).with_name("ray")), "job", "submit", "--address", nodes.dashboard,
        "--runtime-env-json", json.dumps(runtime_env), "--",
        *cli_argv("run", str(config), "--run-dir", str(run_dir), "--no-progress"),
    ]
    done = run_in_head(nodes, submit, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "succeeded" in done.stdout
    expected, expected_keys = serial
    assert _summary(run_dir) == expected
    assert scored_keys(run_dir) == expected_keys
    assert {e["node"] for e in RunDirectory(run_dir).events() if not e["cached"]} == _worker_ips(nodes)


def test_driver_killed_mid_run_resumes_on_the_same_cluster_to_the_uninterrupted_summary(nodes, serial, tmp_path):
    config = _toy(tmp_path, {"name": "ray", "address": nodes.address, "num_actors": 2, "chunks_per_actor": 1,
                             "runtime_env": {"env_vars": SLOW}})
    run_dir = tmp_path / "killed"
    driver = start_in_head(nodes, cli_argv("run", str(config), "--run-dir", str(run_dir), "--no-progress"),
                           log=tmp_path / "driver.log")
    try:
        seen = wait_for_events(run_dir, 1, 2, timeout_s=180, process=driver)
        assert driver.poll() is None, (tmp_path / "driver.log").read_text()[-3000:]
        assert seen >= 2
        os.kill(driver.pid, signal.SIGKILL)
        driver.wait(30)
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()
    before = list(RunDirectory(run_dir).events())
    assert not (run_dir / "summary.json").exists()
    assert not any(e["generation"] == 2 for e in before)

    resumed = run_in_head(nodes, cli_argv("resume", str(run_dir), "--no-progress"), timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "resuming" in resumed.stdout
    expected, expected_keys = serial
    assert _summary(run_dir) == expected
    after = list(RunDirectory(run_dir).events())
    assert after[: len(before)] == before
    keys = scored_keys(run_dir)
    assert keys == expected_keys and max(keys.values()) == 1


def test_worker_node_lost_mid_generation_run_finishes_on_the_other_node(nodes, serial, tmp_path):
    config = _toy(tmp_path, {"name": "ray", "address": nodes.address, "num_actors": 2, "chunks_per_actor": 1,
                             "spread": True, "runtime_env": {"env_vars": SLOW}})
    run_dir = tmp_path / "lost"
    log = tmp_path / "driver.log"
    driver = start_in_head(nodes, cli_argv("run", str(config), "--run-dir", str(run_dir), "--no-progress"), log=log)
    lost = nodes.nodes[1]
    try:
        g0 = sum(len(t.prompts) for t in toy_plugin.ToyProvider().tasks())
        assert wait_for_events(run_dir, 0, g0, timeout_s=180, process=driver) >= g0, log.read_text()[-3000:]
        # Generation 1's two chunks are now being scored, one on each worker node.
        wait_for_events(run_dir, 1, 1, timeout_s=0.5, process=driver)
        assert driver.poll() is None, log.read_text()[-3000:]
        assert nodes.kill_node(lost), "the node had no processes to kill"
        driver.wait(300)
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()
    output = log.read_text()
    assert driver.returncode == 0, output[-3000:]
    assert "lost node" in output and lost.ip in output, output[-3000:]
    assert "goes back in the queue" in output  # the lost node's chunk was in flight, and was scored elsewhere
    expected, expected_keys = serial
    assert _summary(run_dir) == expected
    keys = scored_keys(run_dir)
    assert keys == expected_keys and max(keys.values()) == 1  # nothing lost, nothing scored twice
    events = list(RunDirectory(run_dir).events())
    last = [e for e in events if e["generation"] == 3 and not e["cached"]]
    assert last and {e["node"] for e in last} == {nodes.nodes[2].ip}  # later generations ran on the node left
    assert len(nodes.alive_nodes()) == 2
