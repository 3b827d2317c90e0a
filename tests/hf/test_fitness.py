"""dev_metric: every metric path (classification, multiple choice, generation, NER), batched."""

from __future__ import annotations

import pytest

from zp_evolve import hookimpl
from zp_evolve.errors import ConfigError, PluginError
from zp_evolve.evaluation import FitnessJob
from zp_evolve.plugins import load_plugins
from zp_evolve.tasks import EvalTask
from zp_hf.backends import HFCausalBackend
from zp_hf.formatting import PredictItem
from zp_metrics.classification import auc, micro_f1
from zp_metrics.generation import pos_f1, rouge1

CASES = [("rotten_tomatoes", auc), ("trec_coarse", micro_f1), ("quartz", micro_f1), ("abstract2title", rouge1), ("ner_finance", pos_f1)]


@pytest.fixture(scope="module")
def backend(tiny_causal):
    return HFCausalBackend(tiny_causal, max_new_tokens=4, batch_size=8)


def _job(real_task, name, prompt_index=0, n=6):
    task, examples = real_task(name, n)
    return FitnessJob(task.prompts[prompt_index % len(task.prompts)], EvalTask(task, tuple(examples)))


@pytest.mark.parametrize("name, metric", CASES, ids=[c[0] for c in CASES])
def test_each_metric_path(name, metric, backend, real_task):
    fitness = load_plugins().build("fitness", {"name": "dev_metric"}, backend=backend)
    job = _job(real_task, name)
    assert job.task.task.metric == metric.__name__
    predictions = backend.predict([PredictItem(job.task.task, job.prompt, e) for e in job.examples])
    kinds = {type(p) for p in predictions}
    assert kinds == ({str} if job.task.task.kind == "generation" else {dict})
    expected = metric(predictions, [e.target for e in job.examples])
    assert fitness.evaluate([job]) == [pytest.approx(expected)]


def test_batching_across_prompts_and_tasks_changes_nothing(backend, real_task):
    fitness = load_plugins().build("fitness", {"name": "dev_metric"}, backend=backend)
    jobs = [_job(real_task, name, i) for name, _ in CASES for i in range(2)]
    together = fitness.evaluate(jobs)
    alone = [fitness.evaluate([job])[0] for job in jobs]
    assert together == pytest.approx(alone)
    assert len(set(round(v, 6) for v in together)) > 1


def test_metric_override_and_errors(backend, real_task):
    plugins = load_plugins()
    job = _job(real_task, "trec_coarse")
    accuracy = plugins.build("fitness", {"name": "dev_metric", "metric": "accuracy"}, backend=backend).evaluate([job])[0]
    predictions = backend.predict([PredictItem(job.task.task, job.prompt, e) for e in job.examples])
    hits = sum(max(p, key=p.get) == e.target for p, e in zip(predictions, job.examples))
    assert accuracy == pytest.approx(hits / len(job.examples))
    with pytest.raises(ConfigError, match="needs a model"):
        plugins.build("fitness", {"name": "dev_metric"}, backend=None)
    with pytest.raises(PluginError, match="unknown metric"):
        plugins.build("fitness", {"name": "dev_metric", "metric": "acuracy"}, backend=backend)


class _HalfMetric:
    """An extra plugin's metric: before dev_metric looked metrics up in a global registry, it was invisible."""

    @hookimpl
    def zp_register_metrics(self, register):
        register("always_half", lambda predictions, references: 0.5)


def test_a_worker_scores_with_a_metric_from_an_extra_plugin(tiny_causal, real_task):
    from zp_evolve.evaluation import EvalRequest, WorkerFactory

    task, examples = real_task("rotten_tomatoes", 4)
    factory = WorkerFactory(
        fitness={"name": "dev_metric", "metric": "always_half"}, tasks={task.name: EvalTask(task, tuple(examples))},
        model={"backend": "hf_causal", "name": tiny_causal}, extra_plugins=(_HalfMetric(),),
    )
    (result,) = factory().evaluate([EvalRequest(task.name, task.prompts[0])])
    assert result.ok and result.fitness == 0.5
