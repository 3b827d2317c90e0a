"""Fixed and editable spans of a prompt template.

A template may mark the text that mutation operators may change with ``{{...}}``;
everything outside the marks is *fixed* and every operator must keep it verbatim::

    Review: [X] {{Is this review good or bad?}} Answer: _

A template without marks is editable as a whole (so every existing prompt behaves as
before). The marks are part of the template the search keeps (events, checkpoints,
``summary.json``, ``zp-evolve export``), so a resumed or exported search keeps its spans;
they never reach a model: :func:`zp_evolve.prompts.assemble` reads :func:`strip_marks`.

Canonical form (what :func:`zp_evolve.prompts.normalize` returns for a marked template):
NFKC, single spaces, no white space just inside a mark (it moves outside), and
editable spans separated only by white space merged into one.

Mutators receive the parents without marks and, when their ``mutate`` takes a
``spans`` keyword, each parent's pieces as :class:`Span` objects. The engine puts the
marks back into each child with :func:`remark`: the parent's fixed pieces must appear
in the child, in order and whole (not glued to a new word); the text between them
becomes the child's editable spans. A child for which that fails changed a fixed span.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

from zp_evolve.errors import DataError

OPEN = "{{"
CLOSE = "}}"
_MARK = re.compile(r"\{\{|\}\}")


@dataclass(frozen=True)
class Span:
    """A piece of a prompt without marks: fixed text, or text operators may change."""

    text: str
    editable: bool


#: What a mutator's ``spans=`` receives: the pieces of each parent, in order.
SpanLists = Sequence[Sequence[Span]]


@dataclass(frozen=True)
class MarkedTemplate:
    """A marked template in canonical parts: ``fixed[0] {{editable[0]}} fixed[1] ... fixed[n]``.

    ``fixed`` has one more entry than ``editable``; the first and last may be empty
    (the template starts or ends with an editable span). ``gaps[i]`` says whether a
    space separates editable span ``i`` from the fixed text on its left and right.
    """

    fixed: tuple[str, ...]
    editable: tuple[str, ...]
    gaps: tuple[tuple[bool, bool], ...]

    def _parts(self, open_mark: str, close_mark: str) -> list[str]:
        parts = [self.fixed[0]]
        for text, (left, right), after in zip(self.editable, self.gaps, self.fixed[1:]):
            parts += [" " if left else "", open_mark, text, close_mark, " " if right else "", after]
        return parts

    def text(self) -> str:
        """The canonical marked template."""
        return "".join(self._parts(OPEN, CLOSE))

    def plain(self) -> str:
        """What a model reads: the template without marks."""
        return "".join(self._parts("", ""))

    def spans(self) -> tuple[Span, ...]:
        """The pieces of :meth:`plain`, in order; empty editable spans are kept (insertion points)."""
        out: list[Span] = []
        fixed = self.fixed[0]
        for text, (left, right), after in zip(self.editable, self.gaps, self.fixed[1:]):
            fixed += " " if left else ""
            if fixed:
                out.append(Span(fixed, False))
            out.append(Span(text, True))
            fixed = (" " if right else "") + after
        if fixed:
            out.append(Span(fixed, False))
        return tuple(out)


def has_marks(template: str) -> bool:
    return OPEN in template or CLOSE in template


def mark_problems(template: str) -> list[str]:
    """What is wrong with the marks of ``template`` (none for a template without marks)."""
    depth = 0
    for match in _MARK.finditer(template):
        if match.group() == OPEN:
            if depth:
                return ["nests '{{' inside an editable span; close the span with '}}' first"]
            depth = 1
        else:
            if not depth:
                return ["has '}}' without an opening '{{' (marks must pair up: {{editable text}})"]
            depth = 0
    if depth:
        return ["has '{{' without a closing '}}' (marks must pair up: {{editable text}})"]
    return []


def _clean(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split())


@lru_cache(maxsize=4096)
def parse(template: str) -> MarkedTemplate | None:
    """The canonical parts of a marked template; ``None`` when it has no marks.

    Raises:
        DataError: the marks do not pair up.
    """
    if not has_marks(template):
        return None
    problems = mark_problems(template)
    if problems:
        raise DataError(f"prompt {template!r} {problems[0]}")
    pieces = _MARK.split(_clean(template))  # fixed, editable, fixed, ..., fixed
    fixed_raw, editable_raw = pieces[0::2], pieces[1::2]
    # Editable spans separated by nothing but white space are one span.
    index = 1
    while index < len(fixed_raw) - 1:
        if fixed_raw[index].strip():
            index += 1
            continue
        editable_raw[index - 1] += fixed_raw[index] + editable_raw.pop(index)
        fixed_raw.pop(index)
    gaps = []
    for i, raw in enumerate(editable_raw):
        before, after = fixed_raw[i], fixed_raw[i + 1]
        if not raw.strip():
            # an empty span between two fixed pieces keeps their space, once, on its left
            spaced = before.endswith(" ") or bool(raw) or after.startswith(" ")
            gaps.append((bool(before.strip()) and bool(after.strip()) and spaced, False))
            continue
        left = bool(before.strip()) and (before.endswith(" ") or raw.startswith(" "))
        right = bool(after.strip()) and (after.startswith(" ") or raw.endswith(" "))
        gaps.append((left, right))
    return MarkedTemplate(
        fixed=tuple(p.strip() for p in fixed_raw),
        editable=tuple(p.strip() for p in editable_raw),
        gaps=tuple(gaps),
    )


def canonical_template(template: str) -> str:
    """The canonical marked form; a template without marks (or with broken ones) is returned as is."""
    try:
        marked = parse(template)
    except DataError:
        return template
    return template if marked is None else marked.text()


def strip_marks(template: str) -> str:
    """The text a model reads: the marks removed (a marked template comes back with single spaces).

    Broken marks are removed too, so no ``{{`` ever reaches a model.
    """
    if not has_marks(template):
        return template
    try:
        marked = parse(template)
    except DataError:
        return " ".join(_MARK.sub(" ", template).split())
    return template if marked is None else marked.plain()


def split_spans(template: str) -> tuple[Span, ...]:
    """The pieces of ``strip_marks(template)``: one editable span for a template without marks."""
    marked = parse(template)
    return (Span(template, True),) if marked is None else marked.spans()


def is_marked(spans: tuple[Span, ...] | list[Span]) -> bool:
    """True when ``spans`` hold fixed text (not one editable piece)."""
    return len(spans) != 1 or not spans[0].editable


_WORDISH = "A-Za-z0-9\u00c0-\u024f"  # letters that join into one word when nothing separates them


def _wordish(char: str) -> bool:
    return bool(char) and re.match(f"[{_WORDISH}]", char) is not None


@lru_cache(maxsize=1024)
def _pattern(marked: MarkedTemplate) -> re.Pattern[str]:
    """The fixed pieces in order, any text between them.

    Where the parent had a space between a fixed word and an editable span, a child
    may not glue a new word onto the fixed one ("Review" -> "Reviewgood"); elsewhere
    spacing is free (Chinese has none, "[X]" and punctuation join nothing).
    """
    pattern = re.escape(marked.fixed[0])
    for before, text, (left, right), after in zip(marked.fixed, marked.editable, marked.gaps, marked.fixed[1:]):
        right = right or (left and not text)  # an empty span's one space separates both sides
        if left and _wordish(before[-1:]):
            pattern += f"(?![{_WORDISH}])"
        pattern += "(.*?)"
        if right and _wordish(after[:1]):
            pattern += f"(?<![{_WORDISH}])"
        pattern += re.escape(after)
    return re.compile(pattern, re.DOTALL)


def remark(child: str, parent: str) -> str | None:
    """``child`` (text without marks) with the marks of ``parent`` put back, canonical.

    ``None`` when the child does not keep every fixed piece of the parent verbatim and
    in order, or when it holds marks of its own. A parent without marks takes any
    child without marks, unchanged.
    """
    if has_marks(child):
        return None
    marked = parse(parent)
    if marked is None:
        return child
    match = _pattern(marked).fullmatch(_clean(child))
    if match is None:
        return None
    editable, gaps = [], []
    for i, gap in enumerate(match.groups()):
        text = gap.strip()
        left = bool(marked.fixed[i]) and gap.startswith(" ")
        right = bool(text) and bool(marked.fixed[i + 1]) and gap.endswith(" ")
        editable.append(text)
        gaps.append((left, right))
    return MarkedTemplate(marked.fixed, tuple(editable), tuple(gaps)).text()


def fixed_pieces(template: str) -> tuple[str, ...]:
    """The fixed text of a marked template, in order (none for a template without marks)."""
    marked = parse(template)
    return () if marked is None else tuple(p for p in marked.fixed if p)
