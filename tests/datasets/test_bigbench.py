"""The bigbench provider: the pull-time index, rank classification, types and languages."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from collections import Counter

import pytest

from zp_evolve.prompts import template_problems

from tests.datasets.conftest import require_source


@pytest.fixture(scope="module")
def bigbench():
    """The pinned BIG-bench 1.0.0 (these tests count its tasks); skipped when PyPI no longer serves it."""
    from zp_datasets.bigbench import BigBenchProvider
    from zp_datasets.sources import source

    require_source("bigbench")
    if BigBenchProvider().partial_copy():
        pytest.skip(f"BIG-bench here is a copy, not the pinned {source('bigbench').file.filename}: "
                    "tests/datasets/test_bigbench_from.py covers copies")
    return BigBenchProvider()


def test_index_lists_every_json_task_with_32_examples(bigbench):
    tasks = bigbench.tasks()
    assert len(tasks) == 966
    assert all(t.size >= 32 and t.name.startswith("bb_") and "/" not in t.name and "." not in t.name for t in tasks)
    types = Counter(t.type for t in tasks)
    assert len(types) >= 15 and {"SENTI", "NLI", "MRC", "SUMM", "INTENT", "WSC", "QA"} <= set(types)
    for task in tasks:
        assert len(task.prompts) >= 3
        assert all(not template_problems(p, task.input_fields) for p in task.prompts)


def test_fixed_options_become_labels(bigbench):
    intent = bigbench.task("bb_intent_recognition")
    assert intent.type == "INTENT" and intent.metric == "micro_f1" and not intent.multiple_choice
    assert len(intent.labels) == 7 and "book_restaurant" in intent.labels
    rows = bigbench.examples("bb_intent_recognition", "train")
    assert all(e.target in intent.labels and not e.candidates for e in rows)
    assert rows[0].inputs["X"].startswith("Utterance:")
    winowhy = bigbench.task("bb_winowhy")
    assert winowhy.labels == ("correct", "incorrect") and winowhy.metric == "auc" and winowhy.type == "WSC"


def test_per_example_options_become_candidates(bigbench):
    task = bigbench.task("bb_logical_deduction__three_objects")
    assert task.multiple_choice and task.metric == "micro_f1"
    rows = bigbench.examples(task.name, "train") + bigbench.examples(task.name, "test")
    assert len(rows) == task.size == 300
    assert all(len(e.candidates) == 3 and e.target in e.candidates for e in rows)
    # Options with stray spaces match their target ("'50 hours '").
    timedial = bigbench.examples("bb_timedial", "test")
    assert all(e.target in e.candidates and e.target == e.target.strip() for e in timedial)


def test_generative_tasks_keep_the_reference(bigbench):
    xsum = bigbench.task("bb_gem__xsum")
    assert xsum.type == "SUMM" and xsum.metric == "rouge1" and xsum.kind == "generation"
    row = bigbench.examples("bb_gem__xsum", "test")[0]
    assert len(row.target.split()) > 5 and len(row.inputs["X"]) > len(row.target)
    qa = bigbench.task("bb_natural_instructions__subtask002_quoref_answer_generation")
    assert qa.type == "MRC" and qa.metric == "string_f1"


def test_chinese_tasks_get_chinese_prompts(bigbench):
    task = bigbench.task("bb_multiemo__all_text_zh")
    assert task.language == "zh" and task.type == "SENTI"
    assert all(any("\u4e00" <= c <= "\u9fff" for c in p) for p in task.prompts)
    assert set(task.labels) == {"ambivalent", "positive", "negative", "neutral"}
    assert bigbench.task("bb_multiemo__all_text_de").language == "de"


def test_empty_inputs_take_the_task_question(bigbench):
    rows = bigbench.examples("bb_cause_and_effect__one_sentence", "train")
    assert rows and all(e.inputs["X"] == "Which of the following sentences makes more sense?" for e in rows)
    assert bigbench.examples("bb_cause_and_effect__one_sentence", "test")


def test_known_defects_are_skipped_and_counted(bigbench):
    bigbench.examples("bb_physics_questions", "train")
    assert bigbench.skipped["bb_physics_questions"] == {"known defect": 1}


def test_filters_select_by_pattern_type_and_language():
    from zp_datasets.bigbench import BigBenchProvider

    require_source("bigbench")
    zh = BigBenchProvider(include=["bb_multiemo__*"], languages=["zh"]).tasks()
    assert len(zh) == 10 and all(t.language == "zh" for t in zh)
    nli = BigBenchProvider(types=["nli"]).tasks()
    assert {t.type for t in nli} == {"NLI"} and len(nli) == 7
    assert not [t for t in BigBenchProvider(exclude=["bb_multiemo__*"]).tasks() if "multiemo" in t.name]


def test_extraction_builds_the_index_from_a_real_archive(tmp_path):
    """The pull-time extractor, on a small tar.gz of real task.json files."""
    from zp_datasets.bigbench_index import extract_bigbench, load_task_json, read_index

    folder = require_source("bigbench")
    archive = tmp_path / "bigbench-1.0.0.tar.gz"
    members = {"intent_recognition": None, "gem/xsum": None, "arithmetic/1_digit_division": None}
    with tarfile.open(archive, "w:gz") as bundle:
        for path in members:
            if path == "arithmetic/1_digit_division":  # 23 examples in the real archive: too few
                raw = json.dumps({"name": "1_digit_division", "examples": [{"input": "1/1", "target": "1"}] * 23}).encode()
            else:
                raw = gzip.decompress((folder / "tasks" / f"{path}.json.gz").read_bytes())
            info = tarfile.TarInfo(f"bigbench-1.0.0/bigbench/benchmark_tasks/{path}/task.json")
            info.size = len(raw)
            bundle.addfile(info, io.BytesIO(raw))
    out = tmp_path / "extracted"
    out.mkdir()
    extract_bigbench(archive, out)
    index = read_index(out)
    assert sorted(e["path"] for e in index["tasks"]) == ["gem/xsum", "intent_recognition"]
    assert index["skipped"] == [{"path": "arithmetic/1_digit_division", "reason": "23 examples"}]
    intent = next(e for e in index["tasks"] if e["path"] == "intent_recognition")
    assert intent["multiple_choice"] and len(intent["options"]) == 7 and intent["script"] == "latin"
    assert load_task_json(out, "gem/xsum")["name"] == "xsum"
