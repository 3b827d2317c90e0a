"""Checks that reject invalid offspring before they cost a fitness evaluation."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Sequence

from zp_evolve.prompts import (
    CHOICES_SEPARATOR, blank_count, choice_problems, join_choices, normalize, placeholders, split_choices,
)
from zp_evolve.spans import remark, strip_marks

REJECTION_REASONS = (
    "empty", "changed_fixed_span", "lost_placeholder", "extra_placeholder", "lost_blank", "bad_choices", "too_long",
    "duplicate",
)


def admit_child(
    child: str,
    parent: str,
    *,
    required: Sequence[str],
    max_chars: int,
    seen: set[str],
    labels: Sequence[str] | None = None,
    verbalizers: Sequence[str] = (),
) -> tuple[str | None, str]:
    """``(reason, text)``: why ``child`` may not enter the population (``None`` if it may), and
    the child as the search keeps it: normalised, with the parent's span marks put back.

    ``child`` is a mutator's output (no marks); ``parent`` the marked prompt it came
    from. ``seen`` holds the normalised text of every prompt already in this task's
    search, so a child equal to its parent is a duplicate too.

    Answer choices (``template ||| a ||| b``): a child without ``|||`` inherits its
    parent's; the marks go back on the template part only, and the checks of slots and
    length read the template. ``labels`` are the task's fixed labels (``Task.fixed_labels``;
    ``None``: the number of choices is not checked): choices that do not fit them are
    ``bad_choices``. Choices equal to ``verbalizers`` are dropped, since the template
    alone answers with them: such a child is its bare template (a duplicate if that was seen).
    """
    template, choices = split_choices(child)
    parent_template, parent_choices = split_choices(parent)
    if CHOICES_SEPARATOR not in child:
        choices = parent_choices
    text = normalize(template)
    if not text:
        return "empty", text
    marked = remark(text, parent_template)
    if marked is None:
        return "changed_fixed_span", text
    text = normalize(marked)
    reason = _template_reason(text, required=required)
    if choices:
        if reason is None and choice_problems(choices, labels):
            reason = "bad_choices"
        if labels and tuple(choices) == tuple(" ".join(v.split()) for v in verbalizers):
            choices = ()  # the task's own words: the template answers with them anyway
        text = normalize(join_choices(text, choices))
    if reason is None and len(strip_marks(split_choices(text)[0])) > max_chars:
        reason = "too_long"
    if reason is None and text in seen:
        reason = "duplicate"
    return reason, text


def rejection_reason(
    child: str,
    parent: str,
    *,
    required: Sequence[str],
    max_chars: int,
    seen: set[str],
    labels: Sequence[str] | None = None,
    verbalizers: Sequence[str] = (),
) -> str | None:
    """Why ``child`` may not enter the population, or ``None`` if it may (see :func:`admit_child`)."""
    verdict = admit_child(child, parent, required=required, max_chars=max_chars, seen=seen, labels=labels, verbalizers=verbalizers)
    return verdict[0]


def _template_reason(template: str, *, required: Sequence[str]) -> str | None:
    found = placeholders(template)
    if any(found.count(name) < 1 for name in required):
        return "lost_placeholder"
    if len(found) != len(required) or set(found) - set(required):
        return "extra_placeholder"
    if blank_count(template) != 1:
        return "lost_blank"
    return None


@dataclass
class OperatorStats:
    """Per-operator counts: proposed, rejected by reason, scored, and kept in a top K."""

    proposed: int = 0
    accepted: int = 0
    rejected: Counter = field(default_factory=Counter)
    in_reproductive_group: int = 0
    in_final_top_k: int = 0

    def to_json(self) -> dict[str, object]:
        return {
            "proposed": self.proposed,
            "accepted": self.accepted,
            "rejected": dict(sorted(self.rejected.items())),
            "rejected_total": sum(self.rejected.values()),
            "in_reproductive_group": self.in_reproductive_group,
            "in_final_top_k": self.in_final_top_k,
        }


def new_stats() -> defaultdict[str, OperatorStats]:
    return defaultdict(OperatorStats)
