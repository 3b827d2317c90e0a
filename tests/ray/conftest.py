"""Fixtures of the Ray tests: one loopback cluster for the whole session, joined by address.

Ray is heavy on 2 cores, so the tests share what they can: a cluster started with
``ray start --head`` on free ports in a temp folder (stopped at the end), and one
driver connection, reopened by :func:`ray_session` when a test closed it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterator

import pytest

from tests import toy_plugin
from tests.conftest import gps_search
from tests.ray.cluster import LoopbackCluster
from zp_evolve.rundir import RunDirectory
from zp_gps.search import GeneticPromptSearch
from zp_ray import session


@pytest.fixture(scope="session")
def ray_cluster():
    """A head node on loopback: 3 logical CPUs (two evaluation actors and some room) and one
    logical GPU, so that GPU-sharing placements (``num_gpus_per_actor: 0.25``) are scheduled
    for real; the actors run on the CPU."""
    cluster = LoopbackCluster(num_cpus=3, num_gpus=1).start()
    try:
        yield cluster
    finally:
        import ray

        if ray.is_initialized():
            ray.shutdown()
        stragglers = cluster.stop()
        assert not stragglers, f"Ray processes outlived the cluster: {stragglers}"


@pytest.fixture
def ray_session(ray_cluster):
    """This process connected to :func:`ray_cluster`; executors reuse the connection."""
    import ray

    if not ray.is_initialized():
        session._use_local_token_for_loopback(ray_cluster.address)
        ray.init(address=ray_cluster.address, logging_level="WARNING", log_to_driver=False, namespace="zp_tests")
    yield ray_cluster


def make_search(
    tmp_path: Path,
    name: str,
    executor: dict[str, Any],
    *,
    extra: tuple = (toy_plugin,),
    edit: Callable[[dict], None] | None = None,
    **search: Any,
) -> GeneticPromptSearch:
    """The toy search (tests/toy_plugin.py) on ``executor``, writing to ``tmp_path/name``."""
    raw = toy_plugin.toy_config(tmp_path, **search)
    raw["executor"] = executor
    if edit is not None:
        edit(raw)
    return gps_search(tmp_path / name, raw, extra=extra)


def scored_keys(run_dir: Path) -> Counter:
    """How often each (generation, task, split, prompt) appears in events.jsonl."""
    return Counter((e["generation"], e["task"], e["split"], e["prompt"]) for e in RunDirectory(run_dir).events())


@contextlib.contextmanager
def plugin_package(folder: Path, name: str, source: str) -> Iterator[tuple[Path, ModuleType]]:
    """Write ``source`` as the package ``folder/name`` and import it in this process for the
    block: the driver's copy of a plugin that the actors get through ``runtime_env``."""
    package = folder / name
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(source)
    spec = importlib.util.spec_from_file_location(name, package / "__init__.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
        yield package, module
    finally:
        del sys.modules[name]
