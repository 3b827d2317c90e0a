"""``zp-evolve tasks`` after ``zp-evolve data pull --all``: the counts the project promises."""

from __future__ import annotations

import json
import re
from collections import Counter

from tests.datasets.conftest import require_source


def test_at_least_300_tasks_over_10_types_in_english_and_chinese(cli):
    from zp_datasets.sources import SOURCES

    for name in SOURCES:
        require_source(name)
    result = cli("tasks", "--json")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert all(r["data_ready"] for r in rows)
    types = Counter(r["type"] for r in rows)
    languages = Counter(r["language"] for r in rows)
    assert len(rows) >= 300 and len(types) >= 10
    assert languages["en"] >= 300 and languages["zh"] >= 15
    zh_types = {r["type"] for r in rows if r["language"] == "zh"}
    assert {"SENTI", "NEWS", "NER", "TOPIC"} <= zh_types

    table = cli("tasks")
    summary = re.search(r"(\d+) usable tasks .* (\d+) types, (\d+) languages", table.stdout)
    assert summary and int(summary.group(1)) == len(rows) and int(summary.group(2)) == len(types)
    ner = cli("tasks", "--type", "ner", "--json")
    assert {json.loads(line)["name"] for line in ner.stdout.splitlines()} == {"msra_ner", "peoples_daily_ner", "ner_finance"}
