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


def test_predictions_come_back_with_the_value(backend, real_task):
    fitness = load_plugins().build("fitness", {"name": "dev_metric"}, backend=backend)
    job = _job(real_task, "trec_coarse")
    scored = fitness.evaluate_predictions([job])[0]
    assert scored.metric == "micro_f1" and len(scored.predictions) == len(job.examples)
    assert scored.value == pytest.approx(micro_f1(list(scored.predictions), [e.target for e in job.examples]))
    assert fitness.evaluate([job]) == [scored.value]


def test_contextual_calibration_divides_out_the_content_free_prior(backend, real_task):
    """Zhao et al. (2021): q(label) ∝ p(label) / p_cf(label), p_cf from content-free inputs."""
    import math

    from zp_evolve.ensemble import normalised_label_scores
    from zp_hf.calibration import CONTENT_FREE_INPUTS, content_free_examples

    plugins = load_plugins()
    job = _job(real_task, "trec_coarse", n=12)
    task = job.task.task
    raw = backend.predict([PredictItem(task, job.prompt, e) for e in job.examples])
    free = backend.predict([PredictItem(task, job.prompt, e) for e in content_free_examples(task)])
    assert len(free) == len(CONTENT_FREE_INPUTS)
    # the paper's code: raw label probabilities averaged over the content-free inputs, then normalised
    prior = normalised_label_scores({label: math.log(sum(math.exp(f[label]) for f in free) / len(free)) for label in task.labels})
    calibrated = plugins.build("fitness", {"name": "dev_metric", "calibrate": True}, backend=backend).evaluate_predictions([job])[0]
    for before, after in zip(raw, calibrated.predictions):
        expected = normalised_label_scores({k: normalised_label_scores(before)[k] - prior[k] for k in before})
        assert after == pytest.approx(expected, abs=1e-4)  # batched differently: fp32 rounding
    references = [e.target for e in job.examples]
    assert calibrated.value == pytest.approx(micro_f1(list(calibrated.predictions), references))
    # the tiny random model has a strong label prior: calibration moves its argmax
    assert [max(p, key=p.get) for p in raw] != [max(p, key=p.get) for p in calibrated.predictions]
    # AUC ranks by a score difference that calibration shifts by a constant: it does not change
    binary = _job(real_task, "rotten_tomatoes", n=12)
    plain_auc = plugins.build("fitness", {"name": "dev_metric"}, backend=backend).evaluate([binary])[0]
    calibrated_auc = plugins.build("fitness", {"name": "dev_metric", "calibrate": True}, backend=backend).evaluate([binary])[0]
    assert calibrated_auc == pytest.approx(plain_auc, abs=1e-6)


def test_fluency_is_the_mean_token_log_probability_of_the_wording(backend):
    import torch

    from zp_evolve.plugins import load_plugins

    fluency = load_plugins().build("objectives", {"name": "fluency"}, backend=backend)
    values = fluency.evaluate([("Review: [X] Sentiment: _", None), ("[X] _", None)])
    tokenizer, model = backend.tokenizer, backend.model
    start = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
    ids = torch.tensor([[start, *tokenizer("Review: Sentiment:", add_special_tokens=False)["input_ids"]]])
    with torch.inference_mode():
        logits = model(input_ids=ids).logits[0, :-1].float()
    expected = torch.log_softmax(logits, -1).gather(1, ids[0, 1:, None]).mean().item()
    assert values[0] == pytest.approx(expected, abs=1e-4)
    assert values[1] == float("-inf")  # no words: nothing to read
    with pytest.raises(ConfigError, match="causal LM"):
        load_plugins().build("objectives", {"name": "fluency"}, backend=None)


@pytest.mark.slow
def test_fluency_prefers_a_natural_prompt_on_the_real_smollm2():
    """Back-translation debris should read worse than the prompt it came from."""
    backend = HFCausalBackend("smollm2-135m-instruct", dtype="bf16")
    fluency = load_plugins().build("objectives", {"name": "fluency"}, backend=backend)
    natural, debris, salad = fluency.evaluate([
        ("Is the following movie review positive or negative? [X] Answer: _", None),
        ("The following film revise is it positive or negative? [X] Answer: _", None),
        ("negative review following or the Is movie positive? [X] Answer: _", None),
    ])
    assert natural > debris > salad


class _HalfMetric:
    """An extra plugin's metric: before dev_metric looked metrics up in a global registry, it was invisible."""

    @hookimpl
    def zp_register_metrics(self, register):
        register("always_half", lambda predictions, references: 0.5)


def test_a_worker_scores_with_a_metric_from_an_extra_plugin(tiny_causal, real_task):
    from zp_evolve.evaluation import EvalRequest
    from zp_evolve.workers import WorkerFactory

    task, examples = real_task("rotten_tomatoes", 4)
    factory = WorkerFactory(
        fitness={"name": "dev_metric", "metric": "always_half"}, tasks={task.name: EvalTask(task, tuple(examples))},
        model={"backend": "hf_causal", "name": tiny_causal}, extra_plugins=(_HalfMetric(),),
    )
    (result,) = factory().evaluate([EvalRequest(task.name, task.prompts[0])])
    assert result.ok and result.fitness == 0.5
