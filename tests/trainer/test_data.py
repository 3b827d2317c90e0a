"""The training mixture from task selections and split files, decontaminated against test tasks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

PACKAGED_SPLIT = str(REPO / "experiments" / "splits" / "packaged.yaml")


def test_split_file_sides_feed_training_and_evaluation(catalog):
    from zp_trainer.data import select_tasks
    from zp_trainer.schema import EvalTasks, TrainTasks

    train = TrainTasks.model_validate({"split": {"file": PACKAGED_SPLIT, "types": ["TOPIC", "SUMM", "NEWS"]}})
    assert [t.name for t in select_tasks(catalog, train, side="train", seed=0)] == [
        "bbc_news",
        "chatterbot_topics_en",
        "abstract2title",
    ]
    held_out = EvalTasks.model_validate({"split": {"file": PACKAGED_SPLIT}, "languages": ["zh"]})
    assert {t.name for t in select_tasks(catalog, held_out, side="test", seed=0)} == {
        "inews_sentiment",
        "thucnews",
        "msra_ner",
        "chatterbot_topics_zh",
    }
    limited = TrainTasks.model_validate({"split": {"file": PACKAGED_SPLIT, "limit": 3}})
    names = [t.name for t in select_tasks(catalog, limited, side="train", seed=0)]
    assert len(names) == 3 and names == [t.name for t in select_tasks(catalog, limited, side="train", seed=0)]


def _write_task(folder: Path, name: str, rows: dict[str, list[dict]], labels: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for split, split_rows in rows.items():
        (folder / f"{split}.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in split_rows))
    card = {
        "name": name,
        "type": "NEWS",
        "language": "en",
        "inputs": {"X": "text"},
        "target": "label",
        "labels": {label: label for label in labels},
        "prompts": ["News: [X] Topic: _", "[X] This article is about _.", "What is the topic of this news? _. [X]"],
        "splits": {split: f"{split}.jsonl" for split in rows},
    }
    path = folder / "card.yaml"
    path.write_text(yaml.safe_dump(card))
    return path


def test_training_examples_sharing_a_30_gram_with_a_test_task_are_dropped(catalog, tmp_path):
    """Two tasks built from real BBC articles; four training articles also appear in the test task."""
    from zp_evolve.catalog import TaskCatalog
    from zp_evolve.plugins import load_plugins
    from zp_trainer.data import build_training_data
    from zp_trainer.schema import TrainTasks

    articles = [e for e in catalog.eval_pool("bbc_news") if len(e.inputs["X"].split()) > 40][:24]
    row = lambda e: {"text": e.inputs["X"], "label": e.target}  # noqa: E731
    shared = articles[:4]
    labels = list(catalog.get("bbc_news").labels)
    train_card = _write_task(
        tmp_path / "a", "news_a", {"train": [row(e) for e in articles[:14]], "test": [row(e) for e in articles[14:16]]}, labels
    )
    test_card = _write_task(
        tmp_path / "b", "news_b", {"train": [row(e) for e in articles[16:20]], "test": [row(e) for e in shared]}, labels
    )
    providers = [{"name": "files", "cards": [str(train_card), str(test_card)]}]
    files = TaskCatalog(load_plugins(), providers)
    config = TrainTasks.model_validate(
        {"providers": providers, "names": ["news_a"], "test_tasks": {"providers": providers, "names": ["news_b"]}, "per_class": 100}
    )
    data = build_training_data(files, config, seed=0)
    (task,) = data.tasks
    texts = {e.inputs["X"] for e in task.examples}
    assert task.dropped == 4 and len(task.examples) == 10
    assert not texts & {e.inputs["X"] for e in shared}
    assert data.mlm_dropped == 4 and not set(data.mlm_texts) & {e.inputs["X"] for e in shared}
    report = data.report()
    assert report["decontaminated_against"] == ["news_b"] and report["dropped_by_decontamination"] == 4
    unfiltered = build_training_data(files, config.model_copy(update={"decontaminate": False}), seed=0)
    assert len(unfiltered.tasks[0].examples) == 14


def test_a_task_on_both_sides_is_refused(catalog):
    from zp_evolve.errors import DataError
    from zp_trainer.data import build_training_data
    from zp_trainer.schema import TrainTasks

    config = TrainTasks.model_validate({"names": ["chatterbot_topics_en"], "test_tasks": {"names": ["chatterbot_topics_en"]}})
    with pytest.raises(DataError, match="both training and held-out"):
        build_training_data(catalog, config, seed=0)
