"""The ray executor on a real Ray cluster started with ``ray start --head`` on loopback.

Same results as the serial executor, order kept, actors killed mid-search survived,
and clear errors for workers that keep dying or cannot build their model.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time

import pytest

from tests import toy_plugin
from tests.ray import faulty_plugin
from tests.ray.conftest import make_search, scored_keys
from zp_evolve.errors import ExecutorError
from zp_evolve.evaluation import EvalRequest
from zp_evolve.sampling import DevRule
from zp_evolve.workers import WorkerFactory
from zp_ray.executor import RayExecutor


@pytest.fixture(scope="module")
def serial_summary(tmp_path_factory):
    """The toy search with the serial executor: what every Ray run must reproduce."""
    tmp = tmp_path_factory.mktemp("serial")
    search = make_search(tmp, "serial", {"name": "serial"})
    return search.run(), scored_keys(tmp / "serial")


def test_search_joins_cluster_by_address_and_matches_serial(ray_cluster, serial_summary, tmp_path):
    import ray

    if ray.is_initialized():  # an earlier test's connection: this test joins by itself
        ray.shutdown()
    executor = {"name": "ray", "address": ray_cluster.address, "num_actors": 2}
    summary = make_search(tmp_path, "ray", executor).run()
    expected, expected_keys = serial_summary
    assert summary == expected
    keys = scored_keys(tmp_path / "ray")
    assert keys == expected_keys and max(keys.values()) == 1
    assert not ray.is_initialized()  # the executor opened the connection, so it closed it


def _toy_tasks():
    from zp_evolve.catalog import TaskCatalog
    from zp_evolve.plugins import load_plugins

    catalog = TaskCatalog(load_plugins([toy_plugin]), [{"name": "toy"}])
    return {name: catalog.eval_task(name, 0, DevRule(8, None, 8), 4) for name in ("toy_sentiment", "toy_pair")}


def test_results_come_back_in_request_order_each_reported_once(ray_session):
    tasks = _toy_tasks()
    factory = WorkerFactory(fitness={"name": "text_fitness"}, tasks=tasks, extra_plugins=(toy_plugin,))
    requests = [
        EvalRequest(task, f"[X] [X1] [X2] prompt {i} " + "word " * (i % 7) + "_", split)
        for i in range(30)
        for task, split in [(("toy_sentiment", "toy_pair")[i % 2], ("dev", "test")[i % 3 == 0])]
    ]
    expected = factory().evaluate(requests)
    executor = RayExecutor(address=ray_session.address, num_actors=2, chunk_size=4)
    arrived: list[int] = []
    executor.start(factory)
    try:
        assert len(executor.plan(requests)) >= 8
        results = executor.evaluate(requests, on_result=lambda index, result: arrived.append(index))
        pids = executor.actor_pids()
    finally:
        executor.close()
    assert [r.fitness for r in results] == [r.fitness for r in expected]
    assert sorted(arrived) == list(range(len(requests)))
    assert len(set(pids)) == 2 and os.getpid() not in pids


def _kill_one_actor_during_generation(search, generation_done: int, killed: list[int], seen_pids: list[int]):
    """From a side thread: once generation ``generation_done`` is fully written, SIGKILL the
    process of actor 0 while it scores the next generation."""

    def watch():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not getattr(getattr(search, "executor", None), "_actors", None):
            time.sleep(0.02)
        seen_pids.extend(search.executor.actor_pids())
        size = sum(1 for t in search.eval_tasks for _ in search.eval_tasks[t].task.prompts)
        while time.monotonic() < deadline:
            if sum(1 for e in search.run_dir.events() if e["generation"] == generation_done) >= size:
                break
            time.sleep(0.02)
        time.sleep(0.3)  # the next generation's chunks are now running on both actors
        os.kill(seen_pids[0], signal.SIGKILL)
        killed.append(seen_pids[0])

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("recovery", ["ray_restarts_actor", "executor_replaces_actor"])
def test_actor_killed_mid_search_is_survived_and_nothing_is_lost_or_rescored(
    ray_session, serial_summary, tmp_path, caplog, recovery
):
    options = {"max_restarts": 2, "max_task_retries": 2} if recovery == "ray_restarts_actor" else {
        "max_restarts": 0, "max_task_retries": 0, "chunk_retries": 2}
    executor = {
        "name": "ray", "address": ray_session.address, "num_actors": 2, "chunks_per_actor": 1,
        # Slows the toy fitness on the actors only (see tests/toy_plugin.py), so the kill
        # lands while chunks are being scored; the summary does not see it.
        "runtime_env": {"env_vars": {"ZP_TOY_SLOW": "0.25"}}, **options,
    }
    search = make_search(tmp_path, "killed", executor)
    killed: list[int] = []
    pids: list[int] = []
    watcher = _kill_one_actor_during_generation(search, 0, killed, pids)
    with caplog.at_level(logging.WARNING, logger="zp_ray.executor"):
        summary = search.run()
    watcher.join(10)
    assert killed, "the actor was not killed"
    expected, expected_keys = serial_summary
    assert summary == expected
    keys = scored_keys(tmp_path / "killed")
    assert keys == expected_keys
    assert max(keys.values()) == 1  # each prompt scored exactly once per generation
    if recovery == "executor_replaces_actor":
        assert "retrying on a fresh actor" in caplog.text  # a chunk was in flight and was resent


def test_worker_that_keeps_dying_names_the_chunk_and_last_error(ray_session):
    tasks = _toy_tasks()
    factory = WorkerFactory(fitness={"name": "die_on_marker"}, tasks=tasks, extra_plugins=(faulty_plugin,))
    requests = [EvalRequest("toy_sentiment", f"[X] fine {i} _") for i in range(5)]
    requests.insert(2, EvalRequest("toy_sentiment", "[X] DIE here _"))
    executor = RayExecutor(
        address=ray_session.address, num_actors=2, chunk_size=1, max_restarts=1, max_task_retries=1, chunk_retries=1
    )
    executor.start(factory)
    try:
        with pytest.raises(ExecutorError) as caught:
            executor.evaluate(requests)
    finally:
        executor.close()
    message = str(caught.value)
    assert "'[X] DIE here _'" in message and "failed 2 times" in message
    assert "Last error:" in message and "died" in message.lower()


def test_model_that_cannot_be_built_is_a_clear_error(ray_session):
    factory = WorkerFactory(fitness={"name": "missing_model"}, tasks=_toy_tasks(), extra_plugins=(faulty_plugin,))
    executor = RayExecutor(address=ray_session.address, num_actors=1)
    with pytest.raises(ExecutorError, match="could not build the fitness worker.*no-such-model.*models list"):
        executor.start(factory)
    assert executor._actors == []


def test_remote_mutator_gives_the_same_children_as_in_process(ray_session, serial_summary, tmp_path):
    def wrap(raw):
        raw["mutators"][0] = {
            "name": "remote", "label": "append_word", "weight": 3, "num_cpus": 0,
            "plugins": ["tests.toy_plugin"], "mutator": {"name": "append_word"},
        }

    search = make_search(tmp_path, "remote", {"name": "serial"}, edit=wrap)
    summary = search.run()
    remote = search.operators[0].mutator
    assert remote._actor is not None  # it really ran on an actor
    remote.close()
    expected, _ = serial_summary
    assert summary == expected


def test_remote_mutator_passes_answer_choices_on(ray_session):
    """A choices-aware mutator on an actor sees each parent's choices, as it does in process."""
    import random

    from zp_evolve.tasks import Task
    from zp_mutators.answer_choices import AnswerChoices
    from zp_ray.remote_mutator import RemoteMutator

    task = Task(
        name="toy_yes_no", type="NLI", language="en", input_fields=("X1", "X2"), labels=("entailment", "not_entailment"),
        verbalizers=("yes", "no"), metric="auc", prompts=("[X1] Does it follow that [X2]? _",),
    )
    parents = ["[X1] Is [X2] true? _", "[X1] Does [X2] follow? _"]
    choices = [("True", "False"), ()]
    options = {"sets": [["right", "wrong"], ["correct", "incorrect"]], "children": 2}
    local = AnswerChoices(**options).mutate(parents, rng=random.Random(5), task=task, choices=choices)
    remote = RemoteMutator(mutator={"name": "answer_choices", **options}, address=ray_session.address, num_cpus=0)
    try:
        far = remote.mutate(parents, rng=random.Random(5), task=task, choices=choices)
    finally:
        remote.close()
    assert far == local
    assert all("|||" in child for kids in far for child in kids)
    assert "True ||| False" not in far[0][0]  # never the parent's own set
