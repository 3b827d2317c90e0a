"""Unpack BIG-bench's JSON tasks once and index them, so listing tasks is instant.

``bigbench-1.0.0.tar.gz`` is 358 MB and its ``task.json`` files 1.7 GB. At pull
time the copy is read once — the old PyPI sdist, a GitHub archive (``BIG-bench-<sha>/``,
tar or zip), a clone's folder, or ``hf:tasksource/bigbench`` through ``datasets`` —
and every JSON task (or subtask) with at least
:data:`MIN_EXAMPLES` examples is stored gzipped under ``tasks/`` and described in
``index.json`` (examples, kind, options, keywords, script). Providers read the
index for metadata and open one gzipped task file only when its examples are asked for.
"""

from __future__ import annotations

import gzip
import json
import re
import tarfile
import zipfile
import zlib
from collections import Counter
from pathlib import Path
from typing import Any, Iterator

from zp_evolve.cjk import HAN, HANGUL, KANA, in_ranges
from zp_evolve.errors import DataError

from zp_datasets.wheel_files import read_index as read_versioned_index

MIN_EXAMPLES = 32
INDEX_FILE = "index.json"
INDEX_VERSION = 1
#: ``task.json`` under ``bigbench/benchmark_tasks/``, below at most one top folder
#: (``bigbench-1.0.0/`` in the sdist, ``BIG-bench-<sha>/`` in a GitHub archive).
_TASK_JSON = re.compile(r"^(?:[^/]+/)?bigbench/benchmark_tasks/(.+)/task\.json$")
_MAX_OPTIONS_FIXED = 64


def script_of(text: str) -> str:
    """The main writing system of a text: han, kana, hangul, cyrillic, arabic, devanagari, latin or other."""
    counts: Counter[str] = Counter()
    for char in text:
        code = ord(char)
        if in_ranges(char, KANA):
            counts["kana"] += 1
        elif in_ranges(char, HAN):
            counts["han"] += 1
        elif in_ranges(char, HANGUL):
            counts["hangul"] += 1
        elif 0x0400 <= code <= 0x04FF:
            counts["cyrillic"] += 1
        elif 0x0600 <= code <= 0x06FF:
            counts["arabic"] += 1
        elif 0x0900 <= code <= 0x0DFF:
            counts["indic"] += 1
        elif char.isalpha():
            counts["latin"] += 1
    if not counts:
        return "other"
    if counts["kana"] and counts["kana"] * 10 >= counts["han"]:
        return "kana"  # Japanese mixes kana into Han text
    return counts.most_common(1)[0][0]


def describe(path: str, data: dict[str, Any]) -> dict[str, Any]:
    """The index entry of one parsed task.json."""
    examples = data.get("examples") or []
    multiple_choice = bool(examples) and all(isinstance(e.get("target_scores"), dict) for e in examples)
    options: list[str] | None = None
    if multiple_choice:
        first = list(examples[0]["target_scores"])
        if len(first) <= _MAX_OPTIONS_FIXED and all(set(e["target_scores"]) == set(first) for e in examples):
            options = [str(o) for o in first]
    sample = examples[:200]
    text = " ".join(str(e.get("input", "")) for e in sample)
    target_words = []
    for e in sample:
        target = e.get("target")
        if isinstance(target, list):
            target = target[0] if target else ""
        if isinstance(target, str):
            target_words.append(len(target.split()) if script_of(target) == "latin" else len(target) / 2)
    return {
        "path": path,
        "name": data.get("name", path),
        "description": str(data.get("description", ""))[:500],
        "keywords": [str(k) for k in data.get("keywords", [])],
        "examples": len(examples),
        "multiple_choice": multiple_choice,
        "options": options,
        "script": script_of(text),
        "mean_target_words": (sum(target_words) / len(target_words)) if target_words else 0.0,
        "task_prefix": str(data.get("task_prefix", ""))[:500],
        "preferred_score": data.get("preferred_score", ""),
    }


def _task_files(origin: Path) -> Iterator[tuple[str, bytes]]:
    """``(task path, task.json bytes)`` of a tar or zip archive, or a folder."""
    if origin.is_dir():
        for file in sorted(origin.rglob("task.json")):
            match = _TASK_JSON.match(file.relative_to(origin).as_posix())
            if match:
                yield match.group(1), file.read_bytes()
        return
    try:
        if zipfile.is_zipfile(origin):
            with zipfile.ZipFile(origin) as bundle:
                for name in bundle.namelist():
                    match = _TASK_JSON.match(name)
                    if match:
                        yield match.group(1), bundle.read(name)
            return
        with tarfile.open(origin, "r|*") as bundle:
            for member in bundle:
                match = _TASK_JSON.match(member.name)
                if not match or not member.isfile():
                    continue
                stream = bundle.extractfile(member)
                if stream is not None:
                    yield match.group(1), stream.read()
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error) as error:
        raise DataError(f"{origin} is damaged or truncated ({error}); download it again") from None


def _hf_task_files(origin: str) -> Iterator[tuple[str, bytes]]:
    """The tasks of ``hf:tasksource/bigbench`` (parquet on a hub), rebuilt as BIG-bench JSON."""
    try:
        import datasets
    except ImportError:
        raise DataError(f"--from {origin} needs the `datasets` library: .venv/bin/pip install datasets") from None
    repo = origin.split(":", 1)[1]
    try:
        configs = datasets.get_dataset_config_names(repo)
    except Exception as error:  # noqa: BLE001 - the hub's errors are many and undocumented
        raise DataError(f"--from {origin}: the hub is not reachable or has no {repo} ({error})") from None
    for config in configs:
        parts = datasets.load_dataset(repo, config)
        examples = []
        for part in parts.values():
            for row in part:
                choices = list(row.get("multiple_choice_targets") or [])
                if choices:
                    scores = list(row.get("multiple_choice_scores") or [])
                    examples.append({"input": row["inputs"], "target_scores": dict(zip(choices, scores))})
                else:
                    examples.append({"input": row["inputs"], "target": list(row.get("targets") or [])})
        yield config, json.dumps({"name": config, "examples": examples}).encode()


def extract_bigbench(origin: Path, destination: Path, *, level: int = 3) -> dict[str, Any]:
    """Read every task of ``origin``, keep the JSON tasks with enough examples, write the index."""
    tasks_dir = destination / "tasks"
    entries: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    text = str(origin)
    files = _hf_task_files(text) if text.startswith("hf:") else _task_files(origin)
    for path, raw in files:
        try:
            data = json.loads(raw)
        except ValueError as error:
            skipped.append({"path": path, "reason": f"invalid JSON: {error}"})
            continue
        entry = describe(path, data)
        if entry["examples"] < MIN_EXAMPLES:
            skipped.append({"path": entry["path"], "reason": f"{entry['examples']} examples"})
            continue
        target = tasks_dir / (entry["path"] + ".json.gz")
        target.parent.mkdir(parents=True, exist_ok=True)
        with gzip.open(target, "wb", compresslevel=level) as out:
            out.write(raw)
        entries.append(entry)
    if not entries:
        raise DataError(
            f"{origin} holds no BIG-bench JSON task with >= {MIN_EXAMPLES} examples: expected "
            "[top folder/]bigbench/benchmark_tasks/<task>/task.json (a BIG-bench archive, clone or sdist)"
        )
    index = {"version": INDEX_VERSION, "min_examples": MIN_EXAMPLES, "tasks": entries, "skipped": skipped}
    (destination / INDEX_FILE).write_text(json.dumps(index, ensure_ascii=False), encoding="utf-8")
    return index


def read_index(folder: Path) -> dict[str, Any]:
    return read_versioned_index(folder / INDEX_FILE, INDEX_VERSION, what="BIG-bench", source="bigbench")


def load_task_json(folder: Path, path: str) -> dict[str, Any]:
    file = folder / "tasks" / (path + ".json.gz")
    try:
        with gzip.open(file, "rb") as stream:
            return json.loads(stream.read())
    except (OSError, ValueError) as error:
        raise DataError(f"cannot read BIG-bench task {file}: {error}. Run: zp-evolve data pull bigbench --force") from None
