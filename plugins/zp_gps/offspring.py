"""Checks that reject invalid offspring before they cost a fitness evaluation."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Sequence

from zp_evolve.prompts import blank_count, normalize, placeholders
from zp_evolve.spans import remark, strip_marks

REJECTION_REASONS = (
    "empty", "changed_fixed_span", "lost_placeholder", "extra_placeholder", "lost_blank", "too_long", "duplicate",
)


def admit_child(child: str, parent: str, *, required: Sequence[str], max_chars: int, seen: set[str]) -> tuple[str | None, str]:
    """``(reason, text)``: why ``child`` may not enter the population (``None`` if it may), and
    the child as the search keeps it: normalised, with the parent's span marks put back.

    ``child`` is a mutator's output (no marks); ``parent`` the marked template it came
    from. ``seen`` holds the normalised text of every prompt already in this task's
    search, so a child equal to its parent is a duplicate too.
    """
    text = normalize(child)
    if not text:
        return "empty", text
    marked = remark(text, parent)
    if marked is None:
        return "changed_fixed_span", text
    text = normalize(marked)
    return _template_reason(text, required=required, max_chars=max_chars, seen=seen), text


def rejection_reason(child: str, parent: str, *, required: Sequence[str], max_chars: int, seen: set[str]) -> str | None:
    """Why ``child`` may not enter the population, or ``None`` if it may (see :func:`admit_child`)."""
    return admit_child(child, parent, required=required, max_chars=max_chars, seen=seen)[0]


def _template_reason(text: str, *, required: Sequence[str], max_chars: int, seen: set[str]) -> str | None:
    found = placeholders(text)
    if any(found.count(name) < 1 for name in required):
        return "lost_placeholder"
    if len(found) != len(required) or set(found) - set(required):
        return "extra_placeholder"
    if blank_count(text) != 1:
        return "lost_blank"
    if len(strip_marks(text)) > max_chars:
        return "too_long"
    if text in seen:
        return "duplicate"
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
