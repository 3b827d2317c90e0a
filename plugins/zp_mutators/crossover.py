"""``crossover``: sentence-level one-point crossover between two prompts of a task.

Genetic algorithms recombine parents (Holland 1975; Mitchell 1998, the book the
ZeroPrompt paper cites for GPS). The paper's GPS only mutates; this operator adds
recombination at the sentence level: the child takes the first sentences of its
parent and the last sentences of a second parent, drawn with ``rng`` from the
other prompts of the batch (and the task's handcrafted prompts). A cut is kept
only when the two halves together hold each slot exactly once, so children are
always valid templates. When no such cut exists, one slot-free sentence of the
second parent replaces or joins one of the first parent's.

A parent with marked spans keeps its fixed text: the crossover happens inside one
of its editable spans, whose sentences are crossed with the second parent's
editable text (all of it, for a prompt without marks) under the same rules.
"""

from __future__ import annotations

import random
from typing import Sequence

from zp_evolve.cjk import has_cjk
from zp_evolve.errors import ConfigError
from zp_evolve.prompts import normalize, template_of
from zp_evolve.spans import Span, SpanLists, is_marked, split_spans, strip_marks
from zp_evolve.tasks import Task
from zp_mutators.segments import Token, detokenize, sentences, slot_signature, slots_of, tokenize


class SentenceCrossover:
    """Sentence-level crossover with a second parent from the same batch or task.

    Args:
        children: offspring per parent entry.
        use_task_prompts: also draw second parents from the task's handcrafted prompts.
    """

    def __init__(self, children: int = 1, use_task_prompts: bool = True) -> None:
        if children < 1:
            raise ConfigError(f"crossover: children must be >= 1, got {children}")
        self.children = children
        self.use_task_prompts = use_task_prompts

    def mutate(
        self,
        parents: Sequence[str],
        *,
        rng: random.Random,
        task: Task | None = None,
        spans: SpanLists | None = None,
    ) -> list[list[str]]:
        """Children per parent; a parent with no compatible mate gets none.

        With ``spans``, a parent holding fixed text is crossed inside its editable spans only.
        """
        pieces: dict[str, Sequence[Span]] = {}
        for index, parent in enumerate(parents):
            pieces.setdefault(parent, spans[index] if spans else (Span(parent, True),))
        for prompt in (task.prompts if task and self.use_task_prompts else ()):
            template = template_of(prompt)  # mates are templates, as the parents are
            pieces.setdefault(strip_marks(template), split_spans(template))
        pool = list(pieces)  # parents first, then the task's prompts, without repeats
        out: list[list[str]] = []
        used: dict[str, set[str]] = {}  # children already given to an earlier entry of the same parent
        for parent in parents:
            marked = is_marked(pieces[parent])
            signature = slot_signature(parent)
            # inside an editable span the slots are checked per cut, so any mate of the language will do
            mates = [p for p in pool if normalize(p) != normalize(parent) and (marked or slot_signature(p) == signature)
                     and has_cjk(p) == has_cjk(parent)]
            rng.shuffle(mates)  # the second parent is drawn with rng; the next ones only if it gives nothing new
            forbidden = {normalize(p) for p in pool} | used.setdefault(normalize(parent), set())
            options: list[str] = []
            for mate in mates:
                made = _spanned_offspring(pieces[parent], pieces[mate]) if marked else _offspring(parent, mate)
                fresh = sorted(set(made) - forbidden - set(options))
                rng.shuffle(fresh)
                options.extend(fresh)
                if len(options) >= self.children:
                    break
            out.append(options[: self.children])
            used[normalize(parent)].update(options[: self.children])
        return out


def _spanned_offspring(parent: Sequence[Span], mate: Sequence[Span]) -> list[str]:
    """Children of a parent with fixed spans: one editable span crossed with the mate's editable text."""
    donor = " ".join(span.text for span in mate if span.editable and span.text.strip())
    if not donor:
        return []
    glue = "" if has_cjk(donor) else " "  # an empty span may sit between two fixed words
    children = []
    for index, span in enumerate(parent):
        if not span.editable:
            continue
        for crossed in _offspring(span.text, donor):
            children.append(normalize("".join(f"{glue}{crossed}{glue}" if k == index else p.text for k, p in enumerate(parent))))
    return children


def _offspring(parent: str, mate: str) -> list[str]:
    """Every valid one-point child of ``parent`` and ``mate``, or sentence swaps when none is valid."""
    first = sentences(tokenize(parent))
    second = sentences(tokenize(mate))
    wanted = sorted(slots_of(tokenize(parent)))
    glue = "" if has_cjk(parent) else " "
    children = []
    for i in range(1, len(first)):
        for j in range(1, len(second)):
            pieces = first[:i] + second[j:]
            if sorted(s for p in pieces for s in slots_of(p)) == wanted:
                children.append(_join(pieces, glue))
    if not children:  # no valid cut: move one slot-free sentence over instead
        for donor in (p for p in second if not slots_of(p)):
            for i, piece in enumerate(first):
                if not slots_of(piece):
                    children.append(_join(first[:i] + [donor] + first[i + 1 :], glue))
            for i in range(len(first) + 1):
                children.append(_join(first[:i] + [donor] + first[i:], glue))
    return children


def _join(pieces: Sequence[Sequence[Token]], glue: str) -> str:
    tokens: list[Token] = []
    for piece in pieces:
        if tokens and piece and piece[0].kind != "space" and glue:
            tokens.append(Token(glue, "space"))
        tokens.extend(piece)
    return normalize(detokenize(tokens))
