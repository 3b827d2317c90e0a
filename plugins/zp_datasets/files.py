"""The ``files`` provider: the user's own JSONL or CSV data, described by YAML task cards.

A task card (one YAML file per task)::

    name: my_reviews            # unique task name
    type: SENTI                 # a paper type (SENTI, NEWS, NLI, STS, MRC, ...) or your own
    language: en
    description: Product reviews, positive or negative
    inputs: {X: text}           # placeholder -> column; pairs: {X1: premise, X2: hypothesis}
    target: label               # the column holding the label (or reference text)
    labels: {neg: negative, pos: positive}   # label -> verbalizer word; omit for generation
    options: null               # a column of per-example options (multiple choice)
    metric: auc                 # default: auc (2 labels), micro_f1, pos_f1 (NER), rouge1 (SUMM), string_f1
    prompts: ["Review: [X] Sentiment: _", ...]   # default: the type's handcrafted prompts
    splits: {train: train.jsonl, test: test.csv}  # or data: all.jsonl for a deterministic hold-out

Paths are relative to the card. Rows are JSON objects (JSONL) or CSV rows with a
header; a bad row (missing label, empty text, unknown label) raises with file and
line, or is skipped and counted with ``on_bad_rows: skip``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, Iterator, Literal, Optional, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from zp_evolve.errors import DataError
from zp_evolve.tasks import Example, Task
from zp_evolve.textfiles import iter_utf8_lines, read_utf8

from zp_datasets.base import CachingProvider
from zp_datasets.rows import RowChecker, clip
from zp_datasets.specs import make_task


#: The placeholder sets a card's ``inputs`` may map to columns.
INPUT_PLACEHOLDERS = ({"X"}, {"X1", "X2"}, {"X1", "X2", "X3"})


class CardFields(BaseModel):
    """What every task card says about its task, whatever holds the data (unknown keys are errors)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_-]+$")
    type: str = Field(min_length=1)
    language: str = "en"
    description: str = ""
    topic: str = ""
    target: str = "label"
    metric: str = ""
    prompts: list[str] = Field(default_factory=list)
    splits: dict[str, str] = Field(default_factory=dict)


class TaskCard(CardFields):
    """What a ``files`` task card may say (unknown keys are errors)."""

    inputs: dict[str, str] = Field(min_length=1)
    labels: Optional[Union[dict[str, str], list[str]]] = None
    options: Optional[str] = None
    data: Optional[str] = None

    @field_validator("inputs")
    @classmethod
    def _placeholders(cls, inputs: dict[str, str]) -> dict[str, str]:
        if set(inputs) not in INPUT_PLACEHOLDERS:
            raise ValueError("inputs must map X, or X1 and X2 (and X3), to column names")
        return inputs

    def fields(self) -> tuple[str, ...]:
        return tuple(sorted(self.inputs))

    def label_map(self) -> dict[str, str]:
        if self.labels is None:
            return {}
        if isinstance(self.labels, list):
            return {str(label): str(label) for label in self.labels}
        return {str(k): str(v) for k, v in self.labels.items()}


def read_card(path: Path) -> TaskCard:
    try:
        data = yaml.safe_load(read_utf8(path))
    except DataError as error:  # unreadable, or not UTF-8: the message names the file (and line)
        raise DataError(f"task card {error}") from None
    except yaml.YAMLError as error:
        raise DataError(f"task card {path}: cannot read it: {error}") from None
    try:
        card = TaskCard.model_validate(data if isinstance(data, dict) else {})
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '<card>'}: {e['msg']}" for e in error.errors())
        raise DataError(f"task card {path}: {problems}") from None
    if not card.splits and not card.data:
        raise DataError(f"task card {path}: give 'splits' (e.g. {{train: train.jsonl, test: test.jsonl}}) or 'data'")
    if card.splits and card.data:
        raise DataError(f"task card {path}: give either 'splits' or 'data', not both")
    return card


def read_rows(path: Path) -> Iterator[tuple[int, Any]]:
    """``(line, row)`` of a JSONL or CSV file, streamed; a row that is not an object comes back as ``None``.

    The file is decoded as UTF-8 explicitly, line by line
    (:func:`zp_evolve.textfiles.iter_utf8_lines`), so a UTF-16 or binary file stops with its
    name and line instead of a decoding traceback.
    """
    suffix = path.suffix.lower()
    if suffix not in (".jsonl", ".json", ".ndjson", ".csv", ".tsv"):
        raise DataError(f"{path}: unknown file type; use .jsonl, .csv or .tsv")
    if suffix in (".csv", ".tsv"):
        reader = csv.DictReader((text for _, text in iter_utf8_lines(path)), delimiter="\t" if suffix == ".tsv" else ",")
        try:
            for row in reader:
                yield reader.line_num, row
        except csv.Error as error:
            raise DataError(f"{path}:{reader.line_num}: malformed CSV: {error}") from None
        return
    for number, line in iter_utf8_lines(path):
        if line.strip():
            try:
                row = json.loads(line)
            except ValueError:
                row = None
            yield number, row if isinstance(row, dict) else None


def _columns(rows: list[tuple[int, Any]]) -> list[str]:
    """Every column some row of the file has, in first-seen order."""
    return list(dict.fromkeys(column for _, row in rows if row is not None for column in row if column is not None))


class FilesProvider(CachingProvider):
    """Tasks from the user's JSONL/CSV files, one YAML task card each."""

    def __init__(
        self,
        cards: list[str],
        on_bad_rows: Literal["error", "skip"] = "error",
        test_fraction: float = 0.2,
        max_chars: int = 0,
    ) -> None:
        """
        Args:
            cards: task card files, or folders whose ``*.yaml`` files are cards.
            on_bad_rows: ``error`` raises on a malformed row; ``skip`` drops and counts it.
            test_fraction: share held out as the test part of a card that gives ``data`` only.
            max_chars: inputs are cut to this many characters (0: no limit).
        """
        super().__init__(on_bad_rows=on_bad_rows, test_fraction=test_fraction)
        self.max_chars = max_chars
        self.cards: dict[str, tuple[Path, TaskCard]] = {}
        for entry in cards:
            path = Path(entry).expanduser()
            files = sorted(path.glob("*.yaml")) + sorted(path.glob("*.yml")) if path.is_dir() else [path]
            if not files or not all(f.is_file() for f in files):
                raise DataError(f"task card {entry!r} not found (a .yaml file, or a folder of them)")
            for file in files:
                card = read_card(file)
                if card.name in self.cards:
                    raise DataError(f"task {card.name!r} is defined by two cards: {self.cards[card.name][0]} and {file}")
                self.cards[card.name] = (file, card)

    def task_list(self) -> list[Task]:
        out = []
        for name, (path, card) in self.cards.items():
            labels = card.label_map()
            try:
                out.append(make_task(
                    name, card.type.upper(), card.language, card.fields(),
                    labels=tuple(labels), verbalizers=tuple(labels.values()), metric=card.metric,
                    prompts=card.prompts, topic=card.topic, splits=tuple(card.splits) or ("train", "test"),
                    provider="files", description=card.description, multiple_choice=bool(card.options),
                ))
            except DataError as error:
                raise DataError(f"task card {path}: {error}") from None
        return out

    def load(self, task: Task, rows: RowChecker) -> dict[str, list[Example]]:
        path, card = self.cards[task.name]
        files = {split: card.splits[split] for split in card.splits} if card.splits else {"all": card.data}
        out: dict[str, list[Example]] = {}
        for split, relative in files.items():
            file = (path.parent / str(relative)).resolve()
            if not file.is_file():
                raise DataError(f"task card {path}: data file {file} not found")
            named = f"split {split!r}" if card.splits else "'data'"
            out[split] = [e for e in self._read(file, card, path, named, rows) if e is not None]
        return out

    def _read(self, file: Path, card: TaskCard, card_path: Path, named: str, rows: RowChecker) -> Iterator[Example | None]:
        lines = list(read_rows(file))
        if not lines:
            raise DataError(
                f"{file}: the file has no rows (task card {card_path} names it as {named}). "
                "Add examples, or remove it from the card."
            )
        _check_columns(file, card, card_path, lines)
        for number, row in lines:
            source = f"{file}:{number}"
            if row is None:
                rows.bad(source, "missing label: the line is not a JSON object")
                continue
            absent = [f"{column!r} (input {name})" for name, column in card.inputs.items() if column not in row]
            if absent:  # a JSONL row without a column the other rows have
                rows.bad(source, f"empty text: the row has no column {', '.join(absent)}; it has {', '.join(map(repr, row))}")
                continue
            inputs = {name: clip(row.get(column) or "", self.max_chars) for name, column in card.inputs.items()}
            target = row.get(card.target)
            candidates = options_of(row.get(card.options)) if card.options else ()
            yield rows.example(inputs, None if target is None else str(target), source, candidates)

    def input_columns(self, task: str) -> tuple[dict[str, str], str, str | None]:
        """``(placeholder -> column, target column, options column)`` of a task's card:
        how ``zp-evolve predict`` reads new rows of this task."""
        _, card = self.cards[task]
        return dict(card.inputs), card.target, card.options


def options_of(raw: Any) -> tuple[str, ...]:
    """A multiple-choice row's options: a JSON list, or ``"a|b|c"`` (CSV), white space normalised."""
    values = raw if isinstance(raw, list) else str(raw or "").split("|")
    return tuple(dict.fromkeys(" ".join(str(v).split()) for v in values if str(v).strip()))


def _check_columns(file: Path, card: TaskCard, card_path: Path, lines: list[tuple[int, Any]]) -> None:
    """Every column the card names must be in the file (a CSV header, or some JSONL row).

    A misspelt column would otherwise read as an empty text or a missing label on
    every row, which hides the cause.
    """
    have = _columns(lines)
    wanted = [(column, f"input {name}") for name, column in card.inputs.items()]
    wanted.append((card.target, "target"))
    if card.options:
        wanted.append((card.options, "options"))
    missing = [(column, role) for column, role in wanted if column not in have]
    if not missing:
        return
    line = 1 if file.suffix.lower() in (".csv", ".tsv") else lines[0][0]
    named = ", ".join(f"column {column!r} ({role} in task card {card_path})" for column, role in missing)
    raise DataError(
        f"{file}:{line}: {named} {'is' if len(missing) == 1 else 'are'} not in the file; "
        f"its columns are: {', '.join(have) or 'none'}. Fix the card or the file."
    )
