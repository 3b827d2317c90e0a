"""The ``hf_datasets`` provider: tasks from `datasets` datasets, one YAML task card each.

Cards (:mod:`zp_datasets.hf_cards`) name a ``save_to_disk`` folder, data files or a hub
id; labels default to the target's ``ClassLabel`` names; handcrafted prompts come from
``prompts:`` and/or promptsource ``templates:`` (:mod:`zp_datasets.promptsource`).
Listing reads metadata only (:mod:`zp_datasets.hf_data`), so a card that gives its
``labels`` is listed, and validates, on a machine without its data; asking for its
examples then raises a :class:`DataError` saying how to make the folder. `datasets`
is imported only when rows are loaded.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Literal, Mapping, Optional, Sequence

from zp_evolve.errors import DataError
from zp_evolve.prompts import normalize, split_choices
from zp_evolve.tasks import Example, Task

from zp_datasets.base import CachingProvider
from zp_datasets.hf_cards import HfCard, card_files, expand, parse_card, read_card
from zp_datasets.hf_data import Column, DataSource
from zp_datasets.promptsource import LIST_OPTIONS, Skip, check_rows, convert, read_templates, select
from zp_datasets.rows import RowChecker, clip
from zp_datasets.specs import make_task

log = logging.getLogger(__name__)
#: Rows the converted templates are checked on (the first good rows of the train split).
CHECK_ROWS = 32
UNLABELLED = ("missing label: label -1 (an unlabelled split, as GLUE and SuperGLUE test splits are; "
              "map test to a labelled split, e.g. splits: {train: train, test: validation})")
_logged: set[tuple[str, str, str]] = set()


class HfDatasetsProvider(CachingProvider):
    """Tasks from `datasets` datasets (local folders, data files or a hub), described by task cards."""

    def __init__(
        self,
        cards: Optional[list[str]] = None,
        tasks: Optional[list[dict[str, Any]]] = None,
        on_bad_rows: Literal["error", "skip"] = "error",
        test_fraction: float = 0.2,
        max_chars: int = 0,
    ) -> None:
        """
        Args:
            cards: task card files, or folders of ``*.yaml``/``*.yml`` cards (paths in a card are relative to it).
            tasks: cards written inline, as mappings (their paths are relative to the working directory).
            on_bad_rows: ``error`` raises on a bad row (missing input, label -1, label out of range); ``skip`` counts it.
            test_fraction: share held out as the test part of a folder holding one Dataset (no splits).
            max_chars: inputs are cut to this many characters (0: no limit).
        """
        super().__init__(on_bad_rows=on_bad_rows, test_fraction=test_fraction)
        self.max_chars = max_chars
        self.cards: dict[str, tuple[str, Path, HfCard]] = {}
        entries = [(str(f), f.parent, read_card(f)) for entry in cards or [] for f in card_files(entry)]
        entries += [(f"tasks.{i}", Path.cwd(), parse_card(data, f"tasks.{i}")) for i, data in enumerate(tasks or [])]
        for where, base, card in entries:
            if card.name in self.cards:
                raise DataError(f"task {card.name!r} is defined by two cards: {self.cards[card.name][0]} and {where}")
            self.cards[card.name] = (where, base, card)
        #: ``task -> [(template name, id, why it was skipped)]``, filled when tasks are listed.
        self.skipped_templates: dict[str, list[tuple[str, str, str]]] = {}
        self._unchecked: dict[str, list[tuple[str, str]]] = {}  # task -> [(template label, prompt)] not yet checked on rows

    # -- listing ----------------------------------------------------------------
    def task_list(self) -> list[Task]:
        return [self._task(name, *entry) for name, entry in self.cards.items()]

    def _task(self, name: str, where: str, base: Path, card: HfCard) -> Task:
        source = DataSource(card.dataset, base, where)
        present = source.present()
        columns = source.columns() if present else None
        if columns is not None:
            _check_columns(card, columns, where)
        if present:
            _check_splits(card, source, where)
        labels = _labels(card, columns, source, where)
        words = _verbalizers(card, labels, where)
        prompts = list(card.prompts)
        if card.templates is not None:
            prompts += self._converted(name, card, base, source if present else None, labels, where)
        prompts = list({normalize(p): p for p in prompts}.values())
        theirs = list(card.split_map().values())
        try:
            return make_task(
                name, card.type.upper(), card.language, sorted(card.inputs), labels=labels, verbalizers=words,
                metric=card.metric, prompts=prompts, topic=card.topic, splits=tuple(card.split_map()),
                provider="hf_datasets", description=card.description, size=source.size(theirs) if present else 0,
                multiple_choice=bool(card.options),
            )
        except DataError as error:
            raise DataError(f"task card {where}: {error}") from None

    def _converted(self, name: str, card: HfCard, base: Path, source: DataSource | None,
                   labels: tuple[str, ...], where: str) -> list[str]:
        assert card.templates is not None
        file = expand(card.templates.file, base)
        if not file.is_file():
            raise DataError(f"task card {where}: templates file {file} not found")
        chosen = select(read_templates(file), card.templates.names, card.templates.ids, file)
        rows = self._sample(card, source, labels) if source is not None else []
        binding = card.binding(labels, options_list=isinstance(card.options, str))
        size = len(rows[0][0][card.options]) if rows and isinstance(card.options, str) else LIST_OPTIONS
        prompts, skipped, unchecked = [], [], []
        for template in chosen:
            try:
                prompt = convert(template, binding, list_size=size)
                if rows:
                    check_rows(template, binding, prompt, _answers(rows, prompt, labels))
                else:
                    unchecked.append((template.label(), prompt))
            except Skip as why:
                skipped.append((template.name, template.id, str(why)))
                key = (name, template.id, str(why))
                if key not in _logged:
                    _logged.add(key)
                    log.warning("task %s: %s is skipped: %s", name, template.label(), why)
                continue
            prompts.append(prompt)
        self.skipped_templates[name] = skipped
        self._unchecked[name] = unchecked
        if not prompts and not card.prompts:
            reasons = "; ".join(f"{n!r}: {why}" for n, _, why in skipped)
            raise DataError(f"task card {where}: none of its {len(chosen)} promptsource templates converts ({reasons}). "
                            "Pick others with templates: names: [...], or add prompts: [...]")
        return prompts

    def _sample(self, card: HfCard, source: DataSource, labels: tuple[str, ...]) -> list[tuple[dict, dict[str, str], str]]:
        """``(row, inputs, target)`` of the first good rows of the train split, when they are cheap to read."""
        split = None if source.single() else card.split_map().get("train", next(iter(card.split_map().values())))
        out = []
        for row in source.sample(split, 1000):
            if not _kept(card, row):
                continue
            inputs, target, _, problem = decode(card, labels, row, self.max_chars)
            if problem is None and target and all(v.strip() for v in inputs.values()):
                out.append((row, inputs, target))
            if len(out) == CHECK_ROWS:
                break
        return out

    # -- loading ----------------------------------------------------------------
    def load(self, task: Task, rows: RowChecker) -> dict[str, list[Example]]:
        where, base, card = self.cards[task.name]
        source = DataSource(card.dataset, base, where)
        data = source.open()
        origin = str(source.folder or card.dataset.hub or "")
        if None in data:
            parts = {"all": (None, data[None])}
        else:
            missing = [s for s in card.split_map().values() if s not in data]
            if missing:
                raise DataError(f"task card {where}: the dataset has no split {', '.join(map(repr, missing))}; its splits are "
                                f"{', '.join(map(str, data))}. Map ours to them: splits: {{train: ..., test: ...}}")
            parts = {ours: (theirs, data[theirs]) for ours, theirs in card.split_map().items()}
        out: dict[str, list[Example]] = {}
        checked: list[tuple[dict, dict[str, str], str]] = []  # the first good rows, for templates not checked yet
        for ours, (theirs, dataset) in parts.items():
            label = str(source.files.get(theirs, origin)) if theirs is not None else origin
            out[ours] = []
            for row, example in self._examples(task, card, dataset, label, theirs, rows):
                out[ours].append(example)
                if ours != "test" and len(checked) < CHECK_ROWS:
                    checked.append((row, dict(example.inputs), example.target))
        self._check_loaded(task, card, checked)
        return out

    def _examples(self, task: Task, card: HfCard, dataset: Any, origin: str, split: str | None, rows: RowChecker):
        have = list(dataset.column_names)
        missing = [c for c in card.columns() if c not in have]
        if missing:
            raise DataError(f"{origin}: column(s) {', '.join(map(repr, missing))} named by task card {self.cards[task.name][0]} "
                            f"are not in the dataset; its columns are: {', '.join(have)}. Fix the card.")
        columns = dataset.select_columns(card.columns()).to_dict()
        for index in range(len(dataset)):
            row = {c: columns[c][index] for c in columns}
            if not _kept(card, row):
                continue
            source = f"{origin}" + (f" split {split!r}" if split else "") + f" row {index}"
            inputs, target, candidates, problem = decode(card, task.labels, row, self.max_chars)
            if problem is not None:
                rows.bad(source, problem)
                continue
            example = rows.example(inputs, target, source, candidates)
            if example is not None:
                yield row, example

    def _check_loaded(self, task: Task, card: HfCard, sample: list[tuple[dict, dict[str, str], str]]) -> None:
        """Templates listed without rows to check them on (hub, JSON, CSV) are checked on the loaded rows."""
        unchecked = self._unchecked.pop(task.name, [])
        if not unchecked or card.templates is None or not sample:
            return
        _, base, _ = self.cards[task.name]
        by_label = {t.label(): t for t in read_templates(expand(card.templates.file, base))}
        binding = card.binding(task.labels, options_list=isinstance(card.options, str))
        for label, prompt in unchecked:
            try:
                check_rows(by_label[label], binding, prompt, _answers(sample, prompt, task.labels))
            except Skip as why:
                raise DataError(f"task {task.name!r}: {label} does not read as promptsource renders it: {why}. "
                                "Leave it out with the card's templates: names: [...]") from None

    # -- for commands -----------------------------------------------------------
    def available(self, task: str) -> bool:
        """True when the task's rows are on this machine (a hub dataset counts as available)."""
        where, base, card = self.cards[task]
        return DataSource(card.dataset, base, where).present()

    def input_columns(self, task: str) -> tuple[dict[str, str], str, str | None]:
        """``(placeholder -> column, target column, options column)``: how ``zp-evolve predict`` reads new rows.

        An input joined from several columns, and options spread over several columns,
        are read from columns named after the placeholder (``X1``) and ``options``.
        """
        _, _, card = self.cards[task]
        inputs = {p: card.columns_of(p)[0] for p in card.inputs if len(card.columns_of(p)) == 1}
        return inputs, card.target, card.options if isinstance(card.options, str) else None


# -- rows ---------------------------------------------------------------------------
def decode(card: HfCard, labels: Sequence[str], row: Mapping[str, Any], max_chars: int = 0
           ) -> tuple[dict[str, str], str | None, tuple[str, ...], str | None]:
    """``(inputs, target, options, problem)`` of a raw row; ``problem`` is a RowChecker reason, or None."""
    inputs = {p: clip(" ".join(str(row[c]) for c in card.columns_of(p) if row.get(c) is not None), max_chars)
              for p in card.inputs}
    value = row.get(card.target)
    if card.options:
        raw = row.get(card.options) if isinstance(card.options, str) else [row.get(c) for c in card.options]
        options = [" ".join(str(o).split()) for o in (raw or []) if o is not None]
        target, problem = _pick(value, options, card.index_base, "option")
        return inputs, target, tuple(dict.fromkeys(o for o in options if o)), problem
    if not labels:
        return inputs, None if value is None else str(value), (), None
    target, problem = _pick(value, list(labels), card.index_base, "label")
    return inputs, target, (), problem


def _pick(value: Any, names: list[str], base: int, kind: str) -> tuple[str | None, str | None]:
    """The label (or option) a target value means: its name, or its index (from ``base``)."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None, "missing label"
        if text in names or not text.lstrip("-").isdigit():
            return text, None
        value = int(text)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        return (None, "missing label") if value is None else (str(value), None)
    if value == -1:
        return None, UNLABELLED
    index = value - base
    if not 0 <= index < len(names):
        listed = f"the row's {len(names)} options" if kind == "option" else f"the task's {len(names)} labels {names}"
        return None, f"unknown label: index {value} is out of range for {listed} (index_base {base})"
    return names[index], None


def _kept(card: HfCard, row: Mapping[str, Any]) -> bool:
    return all(row.get(c) == v or str(row.get(c)) == str(v) for c, v in card.where.items())


def _answers(rows: Sequence[tuple[dict, dict[str, str], str]], prompt: str, labels: Sequence[str]):
    """``rows`` with each target turned into the word ``prompt`` answers it with."""
    choices = split_choices(prompt)[1]
    if not choices:
        return rows
    return [(row, inputs, choices[list(labels).index(target)]) for row, inputs, target in rows]


# -- listing checks -------------------------------------------------------------------
def _labels(card: HfCard, columns: Mapping[str, Column] | None, source: DataSource, where: str) -> tuple[str, ...]:
    """The card's labels, else the target's ClassLabel names; checked against each other when both are known."""
    target = (columns or {}).get(card.target)
    given = None if card.labels is None else tuple(card.labels if isinstance(card.labels, list) else card.labels)
    if card.options:
        return ()
    if given is not None:
        if target is not None and target.kind == "label" and target.names != given:
            raise DataError(f"task card {where}: labels {list(given)} differ from the ClassLabel names {list(target.names)} "
                            f"of column {card.target!r} (in index order); fix labels: or leave it out")
        return given
    if target is not None and target.kind == "label":
        return target.names
    if card.dataset.hub and columns is None:
        raise DataError(f"task card {where}: a hub dataset's features are not read when tasks are listed; give labels: "
                        "[...] (the ClassLabel names, in index order), or labels: [] for generation")
    if columns is None and not source.present():
        raise DataError(f"task card {where}: {source.missing_message() if source.folder else source.ref.describe()}; "
                        "give the labels in the card (labels: [...], or labels: [] for generation) to list the task "
                        "without its data")
    if target is not None and target.kind == "int":
        raise DataError(f"task card {where}: column {card.target!r} holds integers but is not a ClassLabel; "
                        "give labels: [name of 0, name of 1, ...]")
    return ()


def _verbalizers(card: HfCard, labels: tuple[str, ...], where: str) -> tuple[str, ...]:
    words = card.labels if isinstance(card.labels, dict) else card.verbalizers or {}
    unknown = sorted(set(words) - set(labels))
    if unknown:
        raise DataError(f"task card {where}: verbalizers for unknown label(s) {unknown}; the labels are {list(labels)}")
    return tuple(str(words.get(label, label)) for label in labels)


def _check_columns(card: HfCard, columns: Mapping[str, Column], where: str) -> None:
    missing = [c for c in card.columns() if c not in columns]
    if missing:
        raise DataError(f"task card {where}: column(s) {', '.join(map(repr, missing))} are not in the dataset; "
                        f"its columns are: {', '.join(columns)}")
    for placeholder in card.inputs:
        lists = [c for c in card.columns_of(placeholder) if columns[c].kind == "list"]
        if lists:
            raise DataError(f"task card {where}: input {placeholder} column {lists[0]!r} holds lists; "
                            "make it the options (options: COLUMN) instead")
    if isinstance(card.options, str) and columns[card.options].kind not in ("list", "other"):
        raise DataError(f"task card {where}: options column {card.options!r} does not hold lists; "
                        "give the option columns as a list: options: [col1, col2]")


def _check_splits(card: HfCard, source: DataSource, where: str) -> None:
    if source.single():
        if card.splits:
            raise DataError(f"task card {where}: {source.folder} holds one Dataset, without splits; drop splits: "
                            "(the task gets a deterministic hold-out) or save a DatasetDict")
        return
    have = source.split_names()
    missing = [s for s in card.split_map().values() if have is not None and s not in have]
    if missing:
        raise DataError(f"task card {where}: the dataset has no split {', '.join(map(repr, missing))}; its splits are "
                        f"{', '.join(have or [])}. Map ours to them, e.g. splits: {{train: train, test: validation}}")
