"""Rows to predict: a JSONL or CSV file read as a task's examples, one row at a time.

The same reader and the same checks as the ``files`` provider (:func:`read_rows`,
:class:`RowChecker`), so a bad row fails with its ``file:line``, before any model
loads. A row needs its inputs; its label is optional (rows to predict usually have
none) but checked when given. Which column holds what:

1. ``columns`` given by the caller (``--column X=review``);
2. else the task card's ``inputs``/``target``/``options`` when the task comes from
   the ``files`` provider;
3. else columns named after the placeholders (``X``, or ``X1`` and ``X2``), the label
   in ``label`` (or ``target``) and multiple-choice options in ``options``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

from zp_evolve.errors import DataError
from zp_evolve.tasks import Example, Task

from zp_datasets.files import options_of, read_rows
from zp_datasets.rows import RowChecker, clip

SKIP_HINT = "pass --on-bad-rows skip"


@dataclass(frozen=True)
class InputColumns:
    """Where each value of a row is: placeholder -> column, and the label and options columns."""

    inputs: Mapping[str, str]
    target: tuple[str, ...] = ("label", "target")
    options: str | None = "options"

    def describe(self) -> str:
        mapping = ", ".join(f"{name}={column}" for name, column in sorted(self.inputs.items()))
        return f"inputs {mapping}; label {' or '.join(self.target) or 'none'}" + (f"; options {self.options}" if self.options else "")


def resolve_columns(
    task: Task,
    given: Mapping[str, str] | None = None,
    *,
    card: tuple[Mapping[str, str], str, str | None] | None = None,
    target: str | None = None,
    options: str | None = None,
) -> InputColumns:
    """The columns to read (see the module docstring); unknown placeholders are an error."""
    given = dict(given or {})
    unknown = sorted(set(given) - set(task.input_fields))
    if unknown:
        raise DataError(f"task {task.name!r} has no input {', '.join(unknown)}; its inputs are {', '.join(task.input_fields)}")
    base_inputs, base_target, base_options = card if card is not None else ({}, "", None)
    inputs = {name: given.get(name) or base_inputs.get(name) or name for name in task.input_fields}
    targets = (target,) if target else (base_target,) if base_target else ("label", "target")
    chosen_options = options or base_options or ("options" if task.multiple_choice else None)
    return InputColumns(inputs, targets, chosen_options)


def read_inputs(
    path: str | Path,
    task: Task,
    columns: InputColumns,
    *,
    on_bad_rows: str = "error",
    max_chars: int = 0,
    report: bool = True,
) -> Iterator[Example]:
    """The good rows of ``path`` as examples of ``task``, lazily (one row in memory at a time).

    ``report``: log how many bad rows were skipped, at the end.

    Raises:
        DataError: the file is missing or of an unknown type, or a row is bad (with
            ``on_bad_rows: error``), naming ``file:line``.
    """
    file = Path(path).expanduser()
    if not file.is_file():
        raise DataError(f"input file {file} not found")
    rows = RowChecker(task, on_bad_rows, skip_hint=SKIP_HINT)
    for number, row in read_rows(file):
        source = f"{file}:{number}"
        if row is None:
            rows.bad(source, "empty text: the line is not a JSON object")
            continue
        example = rows.example(
            {name: clip(_text(row.get(column)), max_chars) for name, column in columns.inputs.items()},
            _label(row, columns.target),
            source,
            options_of(row.get(columns.options)) if columns.options else (),
            require_target=False,
        )
        if example is not None:
            yield example
    if report:
        rows.report()


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _label(row: Mapping[str, Any], names: tuple[str, ...]) -> str | None:
    for name in names:
        value = row.get(name)
        if value is not None and str(value).strip():
            return str(value)
    return None
