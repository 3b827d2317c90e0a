"""Normalise the OpenAI evals registry once, at pull time, and index it.

``evals-3.0.1.post1-py3-none-any.whl`` ships about 460 eval specs
(``evals/registry/evals/*.yaml``) over 470 data folders. The usable ones are the
*basic* evals whose samples are a local JSONL file (``Match``, ``Includes``,
``FuzzyMatch``, ``JsonMatch``, ``Translate``...): each sample is a chat
(``input``: messages or text) with its ``ideal`` answer(s). Model-graded evals,
agentic and game evals, and those that read a hub dataset are counted in the
index with why they were left out.

Each usable eval becomes ``evals_tasks/<name>.jsonl.gz`` with one record a line,
``{"X": text, "target": answer, "source": "file:line"}``, and ``evals_index.json``
describes it: kind ``classification`` when its answers are a few fixed labels
(2 to :data:`MAX_LABELS`, each answered at least twice), ``multiple_choice`` when
the options are written in the prompts (:mod:`zp_datasets.choices`; the record then
has ``candidates`` and the option's text as its ``target``), else ``generation``;
type and language from its name, description and script; the system message
shared by all samples as its description. The six data folders that packaged
tasks read (:data:`PACKAGED_FOLDERS`) are extracted as they are and not indexed.
"""

from __future__ import annotations

import collections
import gzip
import hashlib
import json
import re
from pathlib import Path
from typing import Any, Iterator

import yaml

from zp_evolve.errors import DataError

from zp_datasets.choices import multiple_choice
from zp_datasets.wheel_files import WheelFiles
from zp_datasets.wheel_files import read_index as read_versioned_index

MIN_EXAMPLES = 32
#: Examples kept per eval at most (a deterministic sample of larger ones).
MAX_EXAMPLES = 5000
#: Fixed labels at most; more distinct answers make a generation task.
MAX_LABELS = 10
#: Inputs longer than this (characters) are dropped with a count.
MAX_INPUT_CHARS = 6000
INDEX_FILE = "evals_index.json"
TASKS_DIR = "evals_tasks"
INDEX_VERSION = 2
#: Share of rows whose options parse above which an eval is multiple choice.
MIN_CHOICE_SHARE = 0.8
REGISTRY = "evals/registry/"
#: Data folders read by packaged tasks (``packaged_en``): extracted verbatim, not indexed.
PACKAGED_FOLDERS = ("sarcasm", "ner_finance", "logiqa", "quartz", "product-matching", "abstract2title")
#: Eval classes whose samples are chat + ideal answer.
BASIC_CLASSES = {"Match", "Includes", "FuzzyMatch", "JsonMatch", "Translate", "MatchWithSolvers"}
_PREFIX = re.compile(r"^(?:[^/]+/)?(evals/registry/.+)$")
#: Answer wrappings stripped to make a label's verbalizer (``[B]``, ``ANSWER: B``...).
_ANSWER_LEAD = re.compile(
    r"^(?:answer:|the final answer is:?|the correct option is:?|the correct answer is:?)\s*", re.IGNORECASE
)
_WRAP = re.compile(r"^[\[({](.*)[\])}]$", re.DOTALL)

#: Language names in eval names -> ISO code (checked before the script of the texts).
LANGUAGE_NAMES = {
    "afrikaans": "af", "albanian": "sq", "arabic": "ar", "belarusian": "be", "brazilian": "pt",
    "bulgarian": "bg", "chinese": "zh", "croatian": "hr", "dutch": "nl", "french": "fr", "german": "de",
    "greek": "el", "hebrew": "he", "hindi": "hi", "hungarian": "hu", "icelandic": "is", "indonesian": "id",
    "irish": "ga", "italian": "it", "japanese": "ja", "korean": "ko", "lithuanian": "lt", "macedonian": "mk",
    "nepali": "ne", "norwegian": "no", "polish": "pl", "portuguese": "pt", "romanian": "ro", "russian": "ru",
    "serbian": "sr", "spanish": "es", "swedish": "sv", "turkish": "tr", "ukrainian": "uk", "vietnamese": "vi",
    "canto": "zh", "kanji": "ja", "zh": "zh",
}
#: Type rules on the eval's name and description, in order; the first match wins.
TYPE_RULES: tuple[tuple[str, str], ...] = (
    (r"translat", "TRANS"),
    (r"sarcas|irony", "SARC"),
    (r"sentiment|emotion", "SENTI"),
    (r"\bbias", "BIAS"),
    (r"summar", "SUMM"),
    (r"lexicon|grammar|rhyme|syllable|synonym|antonym|proverb|orthograph|inflection|part-of-speech|spelling"
     r"|anagram|pronunciation|romani[sz]ation|honorific|dialect|gec|idiom|words?\b|letters?\b|shuddha|numerals?"
     r"|phonetic|loanword|consonant|noun-gender|vocabulary", "LING"),
    (r"^raven|^mazes", "REASON"),  # "matrices", "10x10": puzzles, not arithmetic
    (r"cod(e|ing)|css|regex|sql|json|forth|coq|python|program|html|protocol|osm|loop|naughty|svg|hex", "CODE"),
    (r"math|arithmetic|equation|calc|integer|determinant|matri|probabilit|sequence|polynomial|bitwise|binary"
     r"|number|geometry|triangle|recurrence|counting|count\b|3d|manipulation", "MATH"),
    (r"exams?\b|medic|law|cissp|fcc|upsc|mcqa|quiz|trivia|history|countr|geograph|\bqa\b|question|disease|diabetes"
     r"|nutrition|food|tax|invoice|zodiac|shi-jing|poetr|prefecture|lat-long|stratagem|manuscript|music|smiles"
     r"|radical|eit\b", "QA"),
    (r"logic|reason|maze|raven|puzzle|chess|causal|deduct|riddle|pointer|rule|cause|poker|hand-ranks|backgammon"
     r"|connect4|mahjong|mind|moral|parable|crepe|physics|orientation|movement|tracking|heavier|born-first|cipher"
     r"|caesar|vigenere|rot13|base64|replace-characters|bigram|pattern|rectangle|floorplan|viewport|rubik|cube"
     r"|\bgol\b|combination|escher", "REASON"),
)


class Registry(WheelFiles):
    """The files of an evals wheel (zip) or unpacked folder, by path under ``evals/registry/``."""

    def __init__(self, origin: Path) -> None:
        expected = ("evals/registry/evals/*.yaml: expected the evals-3.0.1.post1 wheel "
                    "(or a folder holding evals/registry/)")
        super().__init__(origin, _PREFIX, source="evals", prefix="", expected=expected)
        if not self.under(REGISTRY + "evals/"):
            raise DataError(f"{origin} has no {expected}")

    def under(self, prefix: str) -> list[str]:
        return self.glob(prefix + "*")


def specs(registry: Registry) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """``(evals, specs)``: every eval (``name -> {id, description}``) and every spec by id."""
    evals: dict[str, dict[str, Any]] = {}
    by_id: dict[str, dict[str, Any]] = {}
    for path in registry.under(REGISTRY + "evals/"):
        if not path.endswith((".yaml", ".yml")):
            continue
        try:
            document = yaml.safe_load(registry.read(path))
        except yaml.YAMLError:
            continue  # one broken spec file must not lose the others; it is listed as skipped
        for key, value in (document or {}).items() if isinstance(document, dict) else ():
            if not isinstance(value, dict):
                continue
            if "id" in value:
                evals[str(key)] = value
            else:
                by_id[str(key)] = value
    return evals, by_id


def _content(message: Any) -> str:
    if isinstance(message, dict):
        return str(message.get("content") or "")
    return str(message)


def chat_parts(value: Any) -> tuple[str, str]:
    """``(system, text)`` of a sample's ``input``: its first system message apart, the rest joined."""
    if isinstance(value, str):
        return "", value.strip()
    if not isinstance(value, list):
        return "", ""
    system = ""
    messages = list(value)
    if messages and isinstance(messages[0], dict) and messages[0].get("role") == "system" and "name" not in messages[0]:
        system = _content(messages.pop(0)).strip()
    return system, "\n".join(_content(m).strip() for m in messages if _content(m).strip())


def answer(value: Any) -> str:
    """The sample's ideal answer (the first when several are accepted)."""
    if isinstance(value, list):
        value = value[0] if value else ""
    return "" if value is None else str(value).strip()


def verbalizer(label: str) -> str:
    """``[B]`` / ``ANSWER: B`` / ``The final answer is: B`` -> ``B``."""
    text = _ANSWER_LEAD.sub("", label.strip())
    wrapped = _WRAP.match(text)
    text = wrapped.group(1) if wrapped else text
    return text.strip().rstrip(".").strip() or label.strip()


def script_language(texts: list[str]) -> str:
    """The language a sample of texts is written in, by script (``en`` for Latin)."""
    counts = collections.Counter()
    for char in "".join(texts)[:20000]:
        code = ord(char)
        if 0x3040 <= code <= 0x30FF:
            counts["ja"] += 1
        elif 0xAC00 <= code <= 0xD7AF or 0x1100 <= code <= 0x11FF:
            counts["ko"] += 1
        elif 0x4E00 <= code <= 0x9FFF:
            counts["han"] += 1
        elif 0x0400 <= code <= 0x04FF:
            counts["ru"] += 1
        elif char.isalpha():
            counts["latin"] += 1
    letters = sum(counts.values()) or 1
    if counts["ja"] > 0.05 * letters:
        return "ja"
    for code in ("ko", "han", "ru"):
        if counts[code] > 0.3 * letters:
            return "zh" if code == "han" else code
    return "en"


def eval_language(name: str, texts: list[str]) -> str:
    for word in re.split(r"[-_ ]+", name.lower()):
        if word in LANGUAGE_NAMES:
            return LANGUAGE_NAMES[word]
    return script_language(texts)


def eval_type(name: str, description: str) -> str:
    """By the rules on the name first, then on the description; ``GEN`` when none matches."""
    for text in (name, description):
        text = text.lower().replace("_", "-")
        for pattern, kind in TYPE_RULES:
            if re.search(pattern, text):
                return kind
    return "GEN"


def task_name(name: str) -> str:
    """``Chinese_character_riddles`` -> ``chinese_character_riddles`` (``[a-z0-9_]``)."""
    return re.sub(r"_+", "_", re.sub(r"[^a-z0-9]+", "_", name.lower())).strip("_")


def _keep_order(name: str, count: int) -> list[int]:
    """A deterministic sample of at most :data:`MAX_EXAMPLES` row numbers, in file order."""
    if count <= MAX_EXAMPLES:
        return list(range(count))
    ranked = sorted(range(count), key=lambda i: hashlib.sha1(f"{name}:{i}".encode()).digest())
    return sorted(ranked[:MAX_EXAMPLES])


def read_samples(registry: Registry, path: str) -> tuple[list[dict[str, Any]], collections.Counter]:
    """The usable samples of one JSONL file, and counts of the rows dropped by reason."""
    dropped: collections.Counter = collections.Counter()
    rows = []
    text = registry.read(path).decode("utf-8", errors="replace")
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            dropped["not JSON"] += 1
            continue
        if not isinstance(record, dict):
            dropped["not a JSON object"] += 1
            continue
        system, body = chat_parts(record.get("input"))
        target = answer(record.get("ideal"))
        if not body or not target:
            dropped["no input or no ideal answer"] += 1
            continue
        if len(body) > MAX_INPUT_CHARS:
            dropped[f"input over {MAX_INPUT_CHARS} characters"] += 1
            continue
        rows.append({"system": system, "X": body, "target": target, "source": f"{path.split('/data/', 1)[-1]}:{number}"})
    return rows, dropped


def describe(name: str, rows: list[dict[str, Any]], spec_description: str) -> dict[str, Any]:
    """The index entry of one eval: kind, labels, type, language, description."""
    systems = collections.Counter(r["system"] for r in rows)
    shared, shared_count = systems.most_common(1)[0]
    instruction = shared if shared and shared_count == len(rows) and len(shared) <= 300 else ""
    answers = collections.Counter(r["target"] for r in rows)
    fixed = 2 <= len(answers) <= MAX_LABELS and min(answers.values()) >= 2
    labels = sorted(answers) if fixed else []
    words = [verbalizer(label) for label in labels]
    if len(set(words)) < len(words):
        words = list(labels)  # "Yes" and "Yes." stay apart
    targets = list(answers)
    return {
        "eval": name,
        "name": task_name(name),
        "kind": "classification" if fixed else "generation",
        "labels": labels,
        "verbalizers": words,
        "type": eval_type(name, f"{spec_description} {instruction}"),
        "language": eval_language(name, [r["X"] for r in rows[:50]]),
        "instruction": instruction,
        "description": (spec_description or instruction)[:300],
        "examples": len(rows),
        "mean_target_words": round(sum(len(t.split()) for t in targets) / max(len(targets), 1), 2),
    }


def as_multiple_choice(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], collections.Counter] | None:
    """The rows with their ``candidates`` when the options of most are in their text, else ``None``.

    The rows whose options do not parse are dropped, counted by reason.
    """
    parsed = [multiple_choice(f"{r['system']}\n{r['X']}", verbalizer(r["target"])) for r in rows]
    if sum(not isinstance(p, str) for p in parsed) < MIN_CHOICE_SHARE * len(rows):
        return None
    kept, dropped = [], collections.Counter()
    for row, result in zip(rows, parsed):
        if isinstance(result, str):
            dropped[f"options not read: {result}"] += 1
        else:
            kept.append({**row, "candidates": result[0], "target": result[1]})
    return kept, dropped


def _records(rows: list[dict[str, Any]], instruction: str) -> Iterator[dict[str, Any]]:
    for row in rows:
        text = row["X"] if not row["system"] or row["system"] == instruction else f"{row['system']}\n{row['X']}"
        extra = {"candidates": row["candidates"]} if "candidates" in row else {}
        yield {"X": text, "target": row["target"], **extra, "source": row["source"]}


def _extract_packaged(registry: Registry, destination: Path) -> None:
    for folder in PACKAGED_FOLDERS:
        for path in registry.under(f"{REGISTRY}data/{folder}/"):
            target = destination / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(registry.read(path))


def extract_evals(archive: Path, destination: Path, *, min_examples: int | None = None, level: int = 6) -> dict[str, Any]:
    """Normalise every usable eval of an evals wheel (or unpacked folder) into ``destination``."""
    least = MIN_EXAMPLES if min_examples is None else min_examples
    registry = Registry(archive)
    try:
        _extract_packaged(registry, destination)
        evals, by_id = specs(registry)
        entries: list[dict[str, Any]] = []
        skipped: list[dict[str, str]] = []
        seen_files: set[str] = set()
        names: set[str] = set()
        for name in sorted(evals):
            spec = by_id.get(str(evals[name].get("id")))
            if spec is None:
                skipped.append({"eval": name, "reason": "its spec id is not defined"})
                continue
            kind = str(spec.get("class", "")).rsplit(":", 1)[-1]
            args = spec.get("args") or {}
            samples = args.get("samples_jsonl")
            if kind not in BASIC_CLASSES:
                skipped.append({"eval": name, "reason": f"class {kind or '?'}: model-graded, agentic or hub-backed"})
                continue
            if not isinstance(samples, str):
                skipped.append({"eval": name, "reason": "samples are not one local JSONL file"})
                continue
            path = f"{REGISTRY}data/{samples}"
            if samples.split("/", 1)[0] in PACKAGED_FOLDERS:
                skipped.append({"eval": name, "reason": "read by a packaged task"})
                continue
            if path not in registry.paths:
                skipped.append({"eval": name, "reason": f"samples file {samples} is not in the wheel"})
                continue
            if path in seen_files or task_name(name) in names:
                skipped.append({"eval": name, "reason": "same samples as another eval"})
                continue
            seen_files.add(path)
            rows, dropped = read_samples(registry, path)
            if len(rows) < least:
                skipped.append({"eval": name, "reason": f"{len(rows)} usable examples (< {least})"})
                continue
            total = len(rows)
            rows = [rows[i] for i in _keep_order(name, total)]
            choice = as_multiple_choice(rows)
            if choice is not None:
                rows, unread = choice
                dropped.update(unread)
            entry = describe(name, rows, str(evals[name].get("description") or ""))
            if choice is not None:
                entry.update(kind="multiple_choice", labels=[], verbalizers=[],
                             mean_candidates=round(sum(len(r["candidates"]) for r in rows) / len(rows), 2))
            elif entry["kind"] == "generation" and len({r["target"] for r in rows}) == 1:
                skipped.append({"eval": name, "reason": "every example has the same answer"})
                continue
            entry.update(file=samples, examples_in_file=total, dropped=dict(dropped), splits=["all"])
            folder = destination / TASKS_DIR
            folder.mkdir(parents=True, exist_ok=True)
            with gzip.open(folder / f"{entry['name']}.all.jsonl.gz", "wt", encoding="utf-8", compresslevel=level) as out:
                out.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in _records(rows, entry["instruction"]))
            names.add(entry["name"])
            entries.append(entry)
    finally:
        registry.close()
    if not entries:
        raise DataError(f"{archive} holds no usable eval (a basic eval with {least}+ samples in a local JSONL file): "
                        "expected the evals-3.0.1.post1 wheel")
    index = {"version": INDEX_VERSION, "min_examples": least, "tasks": entries, "skipped": skipped}
    (destination / INDEX_FILE).write_text(json.dumps(index, ensure_ascii=False, indent=1), encoding="utf-8")
    return index


def read_index(folder: Path) -> dict[str, Any]:
    return read_versioned_index(folder / INDEX_FILE, INDEX_VERSION, what="evals", source="evals")


def task_file(folder: Path, name: str, split: str = "all") -> Path:
    return folder / TASKS_DIR / f"{name}.{split}.jsonl.gz"
