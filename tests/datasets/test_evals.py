"""The evals provider: pull-time indexing of the OpenAI evals registry, and the tasks built on it."""

from __future__ import annotations

import gzip
import json
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from zp_evolve.errors import DataError
from zp_evolve.prompts import template_problems

from tests.datasets.conftest import require_source

# Real samples of evals-3.0.1.post1 (belarusian_synonyms/samples.jsonl, rot13/rot13.jsonl).
SYNONYM_SYSTEM = ("You will be prompted with two Belarusian words, separated by a comma. Are these words synonymous, "
                  "at least in some of their commonly used meanings? Answer Y or N.")
SYNONYM_PAIRS = [["абавязкова, безумоўна", "Y"], ["абвінавачваць, вініць", "Y"], ["абвінавачваць, закідаць", "Y"],
                 ["абцас, каблук", "Y"], ["абавязкова, абыякава", "N"], ["абвінавачваць, палаць", "N"],
                 ["абвінавачваць, вітацца", "N"], ["абцас, гультай", "N"]]
ROT13_SYSTEM = ("You are a helpful assistant. Give only the string that the user asks for, no extra characters.\n\n"
                "For example if the user asks 'Give me the ROT13 of: Vg'f n cvrpr bs cvr.', you will respond with just "
                "'It's a piece of pie.'")
ROT13 = [
    ["Give me the ROT13 of: Gur rzoref bs gur qlvat sver pnfg syvpxrevat funqbjf npebff gur qnexrarq ebbz.",
     "The embers of the dying fire cast flickering shadows across the darkened room."],
    ["Give me the ROT13 of: Gur tyrnzvat fxlfpencre gbjrerq nobir gur ohfgyvat zrgebcbyvf, n flzoby bs uhzna vatrahvgl.",
     "The gleaming skyscraper towered above the bustling metropolis, a symbol of human ingenuity."],
    ["Give me the ROT13 of: Gur tenaqvbfr onyyebbz jnf nyvir jvgu gur fbhaq bs ynhtugre naq yviryl pbairefngvba.",
     "The grandiose ballroom was alive with the sound of laughter and lively conversation."],
    ["Give me the ROT13 of: N cbjreshy jngresnyy pnfpnqrq qbja gur pyvssfvqr, perngvat n zrfzrevmvat qvfcynl bs angheny ornhgl.",
     "A powerful waterfall cascaded down the cliffside, creating a mesmerizing display of natural beauty."],
]
# Shaped like the *_exams_qa evals: lettered options in the prompt, the letter as the answer.
EXAM_SYSTEM = "Answer the question with the letter of the right option."
EXAMS = [
    ("Which gas do plants take in for photosynthesis?\nA. Oxygen\nB. Carbon dioxide\nC. Nitrogen\nAnswer:", "B",
     "Carbon dioxide"),
    ("Which planet is the largest?\nA. Mars\nB. Venus\nC. Jupiter\nD. Mercury\nAnswer:", "C", "Jupiter"),
    ("What is the boiling point of water at sea level?\nA. 100 °C\nB. 90 °C\nAnswer:", "A", "100 °C"),
    ("Who wrote 'Hamlet'?\nA. Dickens\nB. Tolstoy\nC. Shakespeare\nAnswer:", "C", "Shakespeare"),
    ("Which is a prime number? Answer:", "B", None),  # its options were lost: dropped with the reason
]
SPECS = """
exams-mini:
  id: exams-mini.dev.v0
  description: Test the model's ability to answer exam questions.
exams-mini.dev.v0:
  class: evals.elsuite.basic.match:Match
  args:
    samples_jsonl: exams_mini/samples.jsonl
belarusian-synonyms:
  id: belarusian-synonyms.dev.v0
  description: Test the model's ability to classify if the Belarusian words are synonyms or not.
belarusian-synonyms.dev.v0:
  class: evals.elsuite.basic.match:Match
  args:
    samples_jsonl: belarusian_synonyms/samples.jsonl
rot13:
  id: rot13.s1.simple-v0
  description: Test the model's ability to perform the simple ROT13 character level operation.
rot13.s1.simple-v0:
  class: evals.elsuite.basic.match:Match
  args:
    samples_jsonl: rot13/rot13.jsonl
rot13-again:
  id: rot13-again.v0
rot13-again.v0:
  class: evals.elsuite.basic.includes:Includes
  args:
    samples_jsonl: rot13/rot13.jsonl
graded:
  id: graded.dev.v0
graded.dev.v0:
  class: evals.elsuite.modelgraded.classify:ModelBasedClassify
  args:
    samples_jsonl: rot13/rot13.jsonl
hellaswag:
  id: hellaswag.val.ab-v1
hellaswag.val.ab-v1:
  class: evals.elsuite.multiple_choice:MultipleChoice
  args:
    dataset: hf://hellaswag?split=validation
sarcasm:
  id: sarcasm.dev.v0
sarcasm.dev.v0:
  class: evals.elsuite.basic.match:Match
  args:
    samples_jsonl: sarcasm/samples.jsonl
"""


def _chat(system: str, user: str) -> list[dict]:
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def build_wheel(path: Path, top: str = "evals/registry/") -> Path:
    """A wheel shaped like evals-3.0.1.post1's, holding real samples of three evals."""
    synonyms = [{"input": _chat(SYNONYM_SYSTEM, x), "ideal": y} for x, y in SYNONYM_PAIRS]
    rot13 = [{"input": _chat(ROT13_SYSTEM, x), "ideal": [y]} for x, y in ROT13]
    rot13.append({"input": _chat(ROT13_SYSTEM, "Give me the ROT13 of: nothing"), "ideal": ""})  # no answer: dropped
    rot13.append("not an object")
    exams = [{"input": _chat(EXAM_SYSTEM, x), "ideal": letter} for x, letter, _ in EXAMS]
    sarcasm = [{"input": _chat("Respond with only a 1 or 0", "thirtysomething scientists unveil doomsday clock of hair loss"),
                "ideal": "1"}]
    with zipfile.ZipFile(path, "w") as bundle:
        bundle.writestr(top + "evals/small.yaml", SPECS)
        bundle.writestr(top + "evals/broken.yaml", "a: [unclosed")
        for name, rows in (("belarusian_synonyms/samples.jsonl", synonyms), ("rot13/rot13.jsonl", rot13),
                           ("sarcasm/samples.jsonl", sarcasm), ("exams_mini/samples.jsonl", exams)):
            bundle.writestr(top + "data/" + name, "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
    return path


@pytest.fixture
def extracted(tmp_path):
    from zp_datasets.evals_index import extract_evals

    index = extract_evals(build_wheel(tmp_path / "evals.whl"), tmp_path / "out", min_examples=4)
    return tmp_path / "out", index


def test_basic_evals_become_indexed_tasks(extracted):
    folder, index = extracted
    by_name = {e["name"]: e for e in index["tasks"]}
    assert sorted(by_name) == ["belarusian_synonyms", "exams_mini", "rot13"]
    synonyms = by_name["belarusian_synonyms"]
    assert synonyms["kind"] == "classification" and synonyms["labels"] == ["N", "Y"]
    assert synonyms["language"] == "be" and synonyms["type"] == "LING" and synonyms["instruction"] == SYNONYM_SYSTEM
    rot13 = by_name["rot13"]
    assert rot13["kind"] == "generation" and rot13["examples"] == 4 and rot13["dropped"] == {
        "no input or no ideal answer": 1, "not a JSON object": 1}
    records = [json.loads(line) for line in gzip.open(folder / "evals_tasks" / "rot13.all.jsonl.gz", "rt", encoding="utf-8")]
    assert [r["target"] for r in records] == [y for _, y in ROT13]  # the first accepted answer
    assert records[0]["X"] == ROT13[0][0] and records[0]["source"] == "rot13/rot13.jsonl:1"  # shared system text is the instruction


def test_options_in_the_prompts_make_a_multiple_choice_eval(extracted):
    folder, index = extracted
    exams = next(e for e in index["tasks"] if e["name"] == "exams_mini")
    assert exams["kind"] == "multiple_choice" and exams["labels"] == [] and exams["examples"] == 4
    assert exams["dropped"] == {"options not read: no lettered options with the answer in the text": 1}
    assert exams["mean_candidates"] == 3.0
    records = [json.loads(line) for line in gzip.open(folder / "evals_tasks" / "exams_mini.all.jsonl.gz", "rt", encoding="utf-8")]
    assert [r["target"] for r in records] == [text for _, _, text in EXAMS[:4]]  # the option's text, not its letter
    assert records[0]["candidates"] == ["Oxygen", "Carbon dioxide", "Nitrogen"]


def test_left_out_evals_say_why(extracted):
    _, index = extracted
    reasons = {s["eval"]: s["reason"] for s in index["skipped"]}
    assert reasons["graded"].startswith("class ModelBasedClassify")
    assert reasons["hellaswag"].startswith("class MultipleChoice")
    assert reasons["rot13-again"] == "same samples as another eval"
    assert reasons["sarcasm"] == "read by a packaged task"


def test_packaged_folders_are_extracted_verbatim(extracted):
    folder, _ = extracted
    assert (folder / "evals/registry/data/sarcasm/samples.jsonl").read_text(encoding="utf-8").startswith('{"input"')


def test_small_evals_are_skipped_and_damaged_wheels_raise(tmp_path):
    from zp_datasets.evals_index import extract_evals

    wheel = build_wheel(tmp_path / "w.whl")
    with pytest.raises(DataError, match="no usable eval"):
        extract_evals(wheel, tmp_path / "a", min_examples=50)
    cut = tmp_path / "cut.whl"
    cut.write_bytes(wheel.read_bytes()[:300])
    with pytest.raises(DataError, match="truncated.*pull evals --force"):
        extract_evals(cut, tmp_path / "b")
    with pytest.raises(DataError, match="no evals/registry/evals"):
        extract_evals(build_wheel(tmp_path / "other.whl", top="registry/"), tmp_path / "c")


@pytest.mark.parametrize(
    "label, word", [("[B]", "B"), ("ANSWER: off", "off"), ("The final answer is: C", "C"), ("{b}", "b"), ("Yes.", "Yes"), ("Y", "Y")]
)
def test_label_wrappings_are_stripped_for_verbalizers(label, word):
    from zp_datasets.evals_index import verbalizer

    assert verbalizer(label) == word


def test_language_comes_from_the_name_then_the_script():
    from zp_datasets.evals_index import eval_language

    assert eval_language("belarusian-lexicon", ["слова"]) == "be"
    assert eval_language("Unfamiliar-Character", ["这个字怎么读"]) == "zh"
    assert eval_language("city-reading", ["この町の読み方は"]) == "ja"
    assert eval_language("spelling", ["맞춤법이 맞나요"]) == "ko"
    assert eval_language("rot13", ["Give me the ROT13 of: Gur"]) == "en"


@pytest.fixture
def small_cache(tmp_path, monkeypatch):
    from zp_datasets import evals_index
    from zp_datasets.sources import source

    monkeypatch.setenv("ZP_EVOLVE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(evals_index, "MIN_EXAMPLES", 4)
    source("evals").pull(origin=str(build_wheel(tmp_path / "evals-3.0.1.post1-py3-none-any.whl")), progress=False)
    return source("evals").folder


def test_provider_lists_nothing_without_the_source(tmp_path, monkeypatch):
    from zp_datasets.evals import EvalsProvider

    monkeypatch.setenv("ZP_EVOLVE_CACHE", str(tmp_path))
    provider = EvalsProvider()
    assert provider.tasks() == [] and provider.missing_sources() == ["evals"]


def test_provider_builds_tasks(small_cache):
    from zp_datasets.evals import EvalsProvider

    provider = EvalsProvider(min_examples=4)
    assert [t.name for t in provider.tasks()] == ["ev_belarusian_synonyms", "ev_exams_mini", "ev_rot13"]
    synonyms = provider.task("ev_belarusian_synonyms")
    assert synonyms.labels == ("N", "Y") and synonyms.metric == "auc" and synonyms.provider == "evals"
    assert SYNONYM_SYSTEM in synonyms.prompts[0]  # the eval's own instruction leads its prompts
    rows = provider.examples("ev_belarusian_synonyms", "train") + provider.examples("ev_belarusian_synonyms", "test")
    assert sorted((e.inputs["X"], e.target) for e in rows) == sorted(map(tuple, SYNONYM_PAIRS))
    assert provider.task("ev_rot13").metric == "rouge1"  # long answers
    assert [t.name for t in EvalsProvider(min_examples=4, types=["ling"]).tasks()] == ["ev_belarusian_synonyms"]
    exams = provider.task("ev_exams_mini")
    assert exams.multiple_choice and exams.metric == "micro_f1" and exams.labels == ()
    rows = provider.examples("ev_exams_mini", "train") + provider.examples("ev_exams_mini", "test")
    assert all(e.target in e.candidates and len(e.candidates) >= 2 for e in rows) and len(rows) == 4
    assert [t.name for t in EvalsProvider(min_examples=4, exclude=["ev_rot*", "ev_ex*"]).tasks()] == ["ev_belarusian_synonyms"]
    assert EvalsProvider().tasks() == []  # 32 examples by default


# -- the real wheel -------------------------------------------------------------
@pytest.fixture(scope="module")
def evals():
    from zp_datasets.evals import EvalsProvider

    require_source("evals")
    return EvalsProvider()


def test_real_registry_gives_hundreds_of_tasks(evals):
    tasks = evals.tasks()
    kinds = Counter("multiple_choice" if t.multiple_choice else "classification" if t.labels else "generation"
                    for t in tasks)
    assert len(tasks) >= 300 and kinds["classification"] + kinds["multiple_choice"] >= 100
    assert kinds["multiple_choice"] >= 30
    assert len({t.type for t in tasks}) >= 8 and sum(t.language == "zh" for t in tasks) >= 8
    assert all(t.name.startswith("ev_") and t.name[3:].replace("_", "").isalnum() for t in tasks)
    for task in tasks:
        assert len(task.prompts) >= 3 and not any(template_problems(p, ["X"]) for p in task.prompts), task.name
        expected = "auc" if len(task.labels) == 2 else "micro_f1" if task.labels or task.multiple_choice else task.metric
        assert task.metric == expected, task.name


def test_real_tasks_load_with_every_target_a_label(evals):
    assert evals.task("ev_bulgarian_exams_qa").multiple_choice
    for name in ("ev_bulgarian_exams_qa", "ev_belarusian_synonyms", "ev_chinese_tang_poetries", "ev_rot13"):
        task = evals.task(name)
        rows = evals.examples(name, "train") + evals.examples(name, "test")
        assert len(rows) == task.size >= 32
        if task.labels:
            assert {e.target for e in rows} == set(task.labels)
        if task.multiple_choice:
            assert all(e.target in e.candidates for e in rows)
