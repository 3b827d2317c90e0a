"""The trainer's pure pieces: span corruption, task mixing, hybrid-prompt items, config checks."""

from __future__ import annotations

import random

import pytest

from zp_evolve.errors import ConfigError, DataError
from zp_evolve.prompts import verbalizer_prompt
from zp_trainer.items import build_item
from zp_trainer.mixture import MixtureSampler, TrainingTask, mixing_weights
from zp_trainer.span_corruption import corrupt, noise_mask

SENTINELS = [-(i + 1) for i in range(100)]


def _uncorrupt(inputs: list[int], targets: list[int]) -> list[int]:
    """Put each sentinel's span back where the sentinel stands."""
    spans: dict[int, list[int]] = {}
    current = None
    for token in targets:
        if token < 0:
            current = token
            spans[current] = []
        else:
            spans[current].append(token)
    out: list[int] = []
    for token in inputs:
        out.extend(spans[token] if token < 0 else [token])
    return out


@pytest.mark.parametrize("length", [2, 7, 40, 128, 500])
def test_span_corruption_hides_spans_that_the_targets_restore(length):
    ids = list(range(1, length + 1))
    inputs, targets = corrupt(ids, SENTINELS, noise_density=0.15, mean_span_length=3.0, rng=random.Random(length))
    assert _uncorrupt(inputs, targets) == ids
    hidden = sum(1 for t in targets if t > 0)
    assert hidden == max(1, min(round(length * 0.15), length - 1))
    spans = sum(1 for t in inputs if t < 0)
    assert targets[-1] == SENTINELS[spans]  # closing sentinel, as in T5
    if length >= 40:
        assert abs(hidden / spans - 3.0) <= 1.5  # mean span length near 3


def test_span_corruption_is_seeded():
    ids = list(range(200))
    first = corrupt(ids, SENTINELS, noise_density=0.15, mean_span_length=3, rng=random.Random(1))
    again = corrupt(ids, SENTINELS, noise_density=0.15, mean_span_length=3, rng=random.Random(1))
    other = corrupt(ids, SENTINELS, noise_density=0.15, mean_span_length=3, rng=random.Random(2))
    assert first == again and first != other


def test_noise_mask_never_uses_more_spans_than_sentinels():
    mask = noise_mask(1000, 0.5, 1.0, random.Random(0), max_spans=5)
    starts = sum(1 for i, m in enumerate(mask) if m and (i == 0 or not mask[i - 1]))
    assert starts <= 5 and sum(mask) == 500


def test_mixing_weights():
    assert mixing_weights([100, 300], "proportional", cap=1000) == [0.25, 0.75]
    assert mixing_weights([100, 5000], "proportional", cap=100) == [0.5, 0.5]
    assert mixing_weights([1, 5000, 0], "uniform", cap=10) == [0.5, 0.5, 0.0]


def test_language_shares_set_each_named_languages_total_and_keep_proportions_inside():
    weights = mixing_weights([100, 300, 50, 50], "proportional", 1000, ["en", "en", "zh", "zh"], {"zh": 0.4})
    assert weights == pytest.approx([0.15, 0.45, 0.2, 0.2])
    assert mixing_weights([100, 300], "proportional", 1000, ["en", "zh"], {}) == [0.25, 0.75]


@pytest.mark.parametrize(
    ("shares", "message"),
    [({"fr": 0.2}, "no non-empty training task is in it"), ({"zh": 1.0}, "keep their sum below 1"),
     ({"zh": 0.3, "en": 0.3}, "must add up to 1")],
)
def test_language_shares_that_cannot_hold_say_what_to_fix(shares, message):
    with pytest.raises(DataError, match=message):
        mixing_weights([100, 50], "proportional", 1000, ["en", "zh"], shares)


def test_sampler_draws_the_language_shares(catalog):
    en, zh = catalog.get("chatterbot_topics_en"), catalog.get("chatterbot_topics_zh")
    tasks = [TrainingTask(t, tuple(catalog.eval_pool(t.name)[:40 if t is en else 5])) for t in (en, zh)]
    sampler = MixtureSampler(tasks, "proportional", 3000, seed=0, language_shares={"zh": 0.5})
    drawn = [task.language for task, _ in sampler.draw_many(2000)]
    assert 0.45 < drawn.count("zh") / len(drawn) < 0.55


def test_sampler_visits_every_example_before_repeating_and_resumes_exactly(catalog):
    task = catalog.get("chatterbot_topics_en")
    examples = tuple(catalog.eval_pool(task.name)[:10])
    sampler = MixtureSampler([TrainingTask(task, examples)], "proportional", 3000, seed=3)
    first = [sampler.draw()[1] for _ in range(10)]
    assert sorted(map(id, first)) == sorted(map(id, examples))
    state = sampler.state_dict()
    ahead = [sampler.draw()[1] for _ in range(15)]
    restored = MixtureSampler([TrainingTask(task, examples)], "proportional", 3000, seed=99)
    restored.load_state_dict(state)
    assert [restored.draw()[1] for _ in range(15)] == ahead


def test_removing_v_drops_exactly_the_verbalizer_prompt(catalog):
    task = catalog.get("chatterbot_topics_en")
    example = catalog.eval_pool(task.name)[0]
    template = task.prompts[0]
    with_v = build_item(task, example, random.Random(0), template=template)
    without_v = build_item(task, example, random.Random(0), template=template, verbalizers=False)
    assert with_v.prompt.prefix == verbalizer_prompt(task.verbalizers, task.language) + without_v.prompt.prefix
    assert with_v.prompt.suffix == without_v.prompt.suffix
    assert with_v.answer == without_v.answer == task.verbalizer(example.target)
    assert example.inputs["X"] in without_v.prompt.prefix + without_v.prompt.suffix


def test_removing_d_keeps_only_inputs_and_v(catalog):
    task = catalog.get("thucnews")
    example = catalog.eval_pool(task.name)[0]
    item = build_item(task, example, random.Random(0), description=False)
    assert item.prompt.prefix == verbalizer_prompt(task.verbalizers, "zh") + example.inputs["X"] + "\n"
    assert item.prompt.suffix == ""


def test_description_is_sampled_among_the_task_prompts(catalog):
    task = catalog.get("chatterbot_topics_en")
    example = catalog.eval_pool(task.name)[0]
    rng = random.Random(0)
    seen = {build_item(task, example, rng, verbalizers=False).prompt for _ in range(60)}
    assert len(seen) == len(set(task.prompts))


def test_config_errors_are_reported_together():
    from zp_trainer.jobs import TrainJob

    data = {
        "job": "train",
        "name": "bad name!",
        "model": {"name": "x", "dtyp": "fp32"},
        "tasks": {"names": ["chatterbot_topics_en"], "per_class": 0},
        "optim": {"batch_size": 6, "grad_accum": 4},
        "mixing": {"strategy": "sideways"},
    }
    with pytest.raises(ConfigError) as caught:
        TrainJob(progress=False).validate(data, file="bad.yaml", lines={("mixing",): 7})
    text = str(caught.value)
    for fragment in ("name", "model.dtyp", "unknown key 'dtyp'", "tasks.per_class", "optim", "multiple of grad_accum", "mixing.strategy", "bad.yaml:7"):
        assert fragment in text, fragment
    assert len(caught.value.issues) == 5


def test_unknown_task_and_missing_split_file_are_config_errors(data_sources):
    from zp_trainer.jobs import EvalJob

    data = {
        "job": "eval",
        "name": "e",
        "model": {"backend": "hf_seq2seq", "name": "x"},
        "tasks": {"names": ["chatterbot_topicz_en"], "split": {"file": "no/such/split.yaml"}},
        "metric": "acuracy",
    }
    with pytest.raises(ConfigError) as caught:
        EvalJob(progress=False).validate(data)
    text = str(caught.value)
    assert "split file 'no/such/split.yaml' not found" in text
    assert "metric" in text and "accuracy" in text
