"""A prompt's answer choices are what the model scores: the same template with two choice
sets scores differently, exactly as a task with those verbalizers would."""

from __future__ import annotations

from dataclasses import replace

import pytest

from zp_evolve.evaluation import FitnessJob
from zp_evolve.plugins import load_plugins
from zp_evolve.tasks import EvalTask
from zp_hf.backends import HFCausalBackend
from zp_hf.formatting import PredictItem, causal_context


@pytest.fixture(scope="module")
def backend(tiny_causal):
    return HFCausalBackend(tiny_causal, batch_size=8)


def test_choices_are_the_candidates_and_change_the_scores(backend, real_task):
    task, examples = real_task("rotten_tomatoes", 6)
    template = "Movie review: [X] Sentiment: _"
    prompts = {"plain": template, "bad_good": f"{template} ||| bad ||| good", "no_yes": f"{template} ||| no ||| yes"}
    items = {k: [PredictItem(task, p, e) for e in examples] for k, p in prompts.items()}
    queries = {k: backend.queries(v) for k, v in items.items()}
    assert {q.candidates for q in queries["plain"]} == {task.verbalizers}  # no choices: the task's verbalizers
    assert {q.candidates for q in queries["bad_good"]} == {("bad", "good")}
    assert {q.keys for qs in queries.values() for q in qs} == {task.labels}  # predictions still name the labels
    contexts = [causal_context(q.prompt, q.language) for q in queries["bad_good"]]
    assert all(c.startswith("Options: bad, good. ") and "|||" not in c for c in contexts)

    predicted = {k: backend.predict(v) for k, v in items.items()}
    assert all(set(p) == set(task.labels) for p in predicted["bad_good"])
    assert predicted["bad_good"] != predicted["no_yes"] != predicted["plain"]
    # the choices act exactly as verbalizers: the bare template on a task that has them as its own
    worded = replace(task, verbalizers=("bad", "good"))
    assert predicted["bad_good"] == backend.predict([PredictItem(worded, template, e) for e in examples])

    fitness = load_plugins().build("fitness", {"name": "dev_metric", "metric": "accuracy"}, backend=backend)
    jobs = [FitnessJob(prompts[k], EvalTask(task, tuple(examples))) for k in ("bad_good", "no_yes")]
    scored = fitness.evaluate_predictions(jobs)
    assert [list(s.predictions) for s in scored] == [predicted["bad_good"], predicted["no_yes"]]
