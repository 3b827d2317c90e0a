"""``edit``: GrIPS-style phrase edits (Prasad et al. 2022, "GrIPS: Gradient-free,
Edit-based Instruction Search for Prompting Large Language Models").

GrIPS edits an instruction at the phrase level with four operations: delete,
swap, paraphrase and add. This operator keeps the three that need no model:

* ``delete``: remove a phrase, or a span of 1..``max_span_words`` words inside one;
* ``swap``: exchange two phrases;
* ``add``: insert a phrase taken from another prompt of the same batch or task
  (GrIPS re-adds phrases it deleted earlier; here the donors are the sibling
  prompts, which carries wording between the handcrafted prompts).

GrIPS finds phrases with a constituency parser; here a phrase is a run of words
between slots and phrase punctuation (:func:`zp_mutators.segments.phrases`), which
needs no model and works for Chinese too. Slots (``[X]``, ``_``) are never edited,
so children always keep them; nor is the fixed text of a prompt with marked spans
(deletes and swaps take phrases of editable spans, adds insert inside them).
"""

from __future__ import annotations

import random
from typing import Literal, Sequence

from zp_evolve.cjk import has_cjk
from zp_evolve.errors import ConfigError
from zp_evolve.prompts import normalize, template_of
from zp_evolve.spans import Span, SpanLists, strip_marks
from zp_evolve.tasks import Task
from zp_mutators.segments import (
    Token, detokenize, editable_positions, phrases, tokenize, tokenize_spans, word_spans,
)

EditOperation = Literal["delete", "swap", "add"]
ALL_OPERATIONS: tuple[EditOperation, ...] = ("delete", "swap", "add")


class PhraseEdit:
    """GrIPS phrase edits (delete, swap, add); model-free and cheap.

    Args:
        operations: the edit operations to draw from, uniformly.
        edits_per_child: operations composed into one child (GrIPS's ``num_compose``).
        max_span_words: longest word span a ``delete`` may cut out of a phrase.
        whole_phrase: probability that ``delete`` removes a whole phrase rather than a span.
        children: offspring per parent entry.
        max_tries: attempts per child before giving up on a parent (a prompt may be too
            short to edit into something new).
    """

    def __init__(
        self,
        operations: Sequence[EditOperation] = ALL_OPERATIONS,
        edits_per_child: int = 1,
        max_span_words: int = 3,
        whole_phrase: float = 0.5,
        children: int = 1,
        max_tries: int = 20,
    ) -> None:
        unknown = [op for op in operations if op not in ALL_OPERATIONS]
        if unknown or not operations:
            raise ConfigError(f"edit: operations must be a non-empty subset of {list(ALL_OPERATIONS)}, got {list(operations)}")
        if edits_per_child < 1 or max_span_words < 1 or children < 1 or max_tries < 1:
            raise ConfigError("edit: edits_per_child, max_span_words, children and max_tries must be >= 1")
        if not 0.0 <= whole_phrase <= 1.0:
            raise ConfigError(f"edit: whole_phrase is a probability in [0, 1], got {whole_phrase}")
        self.operations = list(operations)
        self.edits_per_child = edits_per_child
        self.max_span_words = max_span_words
        self.whole_phrase = whole_phrase
        self.children = children
        self.max_tries = max_tries

    def mutate(
        self,
        parents: Sequence[str],
        *,
        rng: random.Random,
        task: Task | None = None,
        spans: SpanLists | None = None,
    ) -> list[list[str]]:
        """One list of children per parent; a parent too short to edit gets fewer."""
        donors = donor_phrases([*parents, *(strip_marks(template_of(p)) for p in (task.prompts if task else ()))])
        out: list[list[str]] = []
        # the engine repeats a parent once per child slot: its entries share what was taken
        used: dict[str, set[str]] = {}
        for index, parent in enumerate(parents):
            kids: list[str] = []
            taken = used.setdefault(normalize(parent), {normalize(parent)})
            for _ in range(self.children):
                for _ in range(self.max_tries):
                    child = self.edit(parent, rng, donors, spans[index] if spans else None)
                    if child is not None and normalize(child) not in taken:
                        taken.add(normalize(child))
                        kids.append(child)
                        break
            out.append(kids)
        return out

    def edit(self, parent: str, rng: random.Random, donors: Sequence[str], spans: Sequence[Span] | None = None) -> str | None:
        """``edits_per_child`` random operations applied to ``parent`` (its editable ``spans``
        only, when given), or None if none applied."""
        tokens = tokenize_spans(parent, spans)
        applied = 0
        for _ in range(self.edits_per_child):
            operation = rng.choice(self.operations)
            if operation == "delete":
                result = self._delete(tokens, rng)
            elif operation == "swap":
                result = _swap(tokens, rng)
            else:
                chinese = has_cjk(parent)
                fitting = [d for d in donors if normalize(d) not in normalize(parent) and has_cjk(d) == chinese]
                result = _add(tokens, rng, fitting, joiner="" if chinese else " ")
            if result is not None:
                tokens, applied = result, applied + 1
        if not applied:
            return None
        first = next((t for t in tokens if t.text.strip()), None)
        if first is not None and first.fixed:
            return detokenize(tokens)  # the first word is fixed text: its case is not ours to change
        return _match_case(detokenize(tokens), parent)

    def _delete(self, tokens: list[Token], rng: random.Random) -> list[Token] | None:
        spans = phrases(tokens)
        if not spans:
            return None
        span = rng.choice(spans)
        if rng.random() >= self.whole_phrase:
            words = sum(tokens[i].kind == "word" for i in range(*span))
            # a span of all the phrase's words would strand its punctuation: that is the whole-phrase case
            inner = [s for s in word_spans(tokens, span, self.max_span_words) if sum(tokens[i].kind == "word" for i in range(*s)) < words]
            if inner:
                span = rng.choice(inner)
        remaining = tokens[: span[0]] + tokens[span[1] :]
        if not any(t.kind == "word" for t in remaining):
            return None  # a prompt of bare slots says nothing; keep at least one word
        return remaining


def _swap(tokens: list[Token], rng: random.Random) -> list[Token] | None:
    spans = phrases(tokens)
    if len(spans) < 2:
        return None
    (a0, a1), (b0, b1) = sorted(rng.sample(spans, 2))
    swapped = tokens[:a0] + tokens[b0:b1] + tokens[a1:b0] + tokens[a0:a1] + tokens[b1:]
    return swapped if swapped != tokens else None


def _add(tokens: list[Token], rng: random.Random, donors: Sequence[str], joiner: str) -> list[Token] | None:
    if not donors:
        return None
    donor = tokenize(rng.choice(donors))
    # insert at a phrase or slot boundary: before a slot, a phrase, or at the end (of an editable span)
    boundaries = {0, len(tokens), *(i for i, t in enumerate(tokens) if t.kind in ("slot", "close")), *(s for s, _ in phrases(tokens))}
    boundaries |= {i + 1 for i, t in enumerate(tokens) if t.kind == "open"}
    positions = sorted(boundaries & editable_positions(tokens))
    if not positions:
        return None
    at = rng.choice(positions)
    glue = [Token(joiner, "space")] if joiner else []
    return tokens[:at] + glue + donor + glue + tokens[at:]


def donor_phrases(prompts: Sequence[str]) -> list[str]:
    """Distinct phrases of ``prompts``, in first-seen order (so the rng alone decides picks)."""
    seen: dict[str, None] = {}
    for prompt in prompts:
        tokens = tokenize(prompt)
        for start, end in phrases(tokens):
            text = "".join(t.text for t in tokens[start:end]).strip()
            if text:
                seen.setdefault(text, None)
    return list(seen)


def _match_case(child: str, parent: str) -> str:
    """Capitalise the first letter when the parent's was: edits often move a lowercase word first."""
    if child and parent and parent[0].isupper() and child[0].islower():
        return child[0].upper() + child[1:]
    return child
