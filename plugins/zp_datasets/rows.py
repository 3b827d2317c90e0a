"""Turning raw rows into examples, with one policy for bad rows.

A bad row has a missing label, an empty text or a label the task does not know.
With ``on_bad_rows: error`` (the default) it raises :class:`DataError` naming the
file and line; with ``on_bad_rows: skip`` it is dropped and counted, and the
provider logs how many rows of each task it skipped and why.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Literal, Mapping, Sequence

from zp_evolve.errors import ConfigError, DataError
from zp_evolve.tasks import Example, Task

log = logging.getLogger(__name__)

OnBadRows = Literal["error", "skip"]


def check_policy(value: str) -> str:
    if value not in ("error", "skip"):
        raise ConfigError(f"on_bad_rows must be 'error' or 'skip' (got {value!r})")
    return value


def clip(text: str, max_chars: int) -> str:
    """Whitespace-normalised text, cut to ``max_chars`` characters (0: no limit)."""
    text = " ".join(str(text).split())
    return text[:max_chars].rstrip() if max_chars and len(text) > max_chars else text


class RowChecker:
    """Builds examples of one task, applying the bad-row policy."""

    def __init__(
        self,
        task: Task,
        on_bad_rows: str = "error",
        known_bad: Sequence[str] = (),
        skip_hint: str = "set on_bad_rows: skip on the task provider",
    ) -> None:
        self.task = task
        self.policy = check_policy(on_bad_rows)
        self.known_bad = tuple(known_bad)
        self.skip_hint = skip_hint
        self.skipped: Counter[str] = Counter()
        self.examples_of_skipped: list[str] = []

    def bad(self, source: str, reason: str) -> None:
        if self.known_bad and source.endswith(self.known_bad):
            # A defect of a pinned data file, listed with its task: skipped by design.
            self.skipped["known defect"] += 1
            return
        if len(self.examples_of_skipped) < 20:
            self.examples_of_skipped.append(f"{source}: {reason}")
        if self.policy == "error":
            raise DataError(
                f"{source}: {reason} (task {self.task.name!r}). Fix or remove the row, "
                f"or {self.skip_hint} to skip such rows."
            )
        self.skipped[reason.split(":")[0]] += 1

    def example(
        self,
        inputs: Mapping[str, object],
        target: object,
        source: str,
        candidates: Sequence[str] = (),
        *,
        require_target: bool = True,
    ) -> Example | None:
        """An :class:`Example`, or ``None`` when the row is bad and skipped.

        With ``require_target=False`` (rows to predict) a row may lack its label: the
        example's target is then empty; a label that is given is still checked.
        """
        if target is None or not str(target).strip():
            if require_target:
                self.bad(source, "missing label")
                return None
            target = ""
        for name in self.task.input_fields:
            value = inputs.get(name)
            if value is None or not str(value).strip():
                self.bad(source, f"empty text: input {name} is empty")
                return None
        target = str(target).strip() if self.task.kind == "classification" else str(target)
        if self.task.multiple_choice:
            if len(candidates) < 2:
                self.bad(source, "unknown label: a multiple-choice row needs at least two options")
                return None
            if target and target not in candidates:
                self.bad(source, f"unknown label: {target!r} is not one of the options {list(candidates)}")
                return None
        elif self.task.labels and target and target not in self.task.labels:
            self.bad(source, f"unknown label: {target!r}; the task's labels are {list(self.task.labels)}")
            return None
        return Example(
            inputs={k: str(inputs[k]) for k in self.task.input_fields},
            target=target,
            source=source,
            candidates=tuple(candidates),
        )

    def report(self) -> None:
        if self.skipped:
            detail = ", ".join(f"{count} {reason}" for reason, count in sorted(self.skipped.items()))
            # Known defects of pinned files are expected; anything else deserves attention.
            level = logging.INFO if set(self.skipped) == {"known defect"} else logging.WARNING
            log.log(level, "task %s: skipped %d bad rows (%s)", self.task.name, sum(self.skipped.values()), detail)
