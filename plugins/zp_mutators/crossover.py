"""``crossover``: sentence-level one-point crossover between two prompts of a task.

Genetic algorithms recombine parents (Holland 1975; Mitchell 1998, the book the
ZeroPrompt paper cites for GPS). The paper's GPS only mutates; this operator adds
recombination at the sentence level: the child takes the first sentences of its
parent and the last sentences of a second parent, drawn with ``rng`` from the
other prompts of the batch (and the task's handcrafted prompts). A cut is kept
only when the two halves together hold each slot exactly once, so children are
always valid templates. When no such cut exists, one slot-free sentence of the
second parent replaces or joins one of the first parent's.
"""

from __future__ import annotations

import random
from typing import Sequence

from zp_evolve.cjk import has_cjk
from zp_evolve.errors import ConfigError
from zp_evolve.prompts import normalize
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

    def mutate(self, parents: Sequence[str], *, rng: random.Random, task: Task | None = None) -> list[list[str]]:
        """Children per parent; a parent with no compatible mate gets none."""
        pool = list(dict.fromkeys([*parents, *(task.prompts if task and self.use_task_prompts else ())]))
        out: list[list[str]] = []
        used: dict[str, set[str]] = {}  # children already given to an earlier entry of the same parent
        for parent in parents:
            signature = slot_signature(parent)
            mates = [p for p in pool if normalize(p) != normalize(parent) and slot_signature(p) == signature
                     and has_cjk(p) == has_cjk(parent)]
            rng.shuffle(mates)  # the second parent is drawn with rng; the next ones only if it gives nothing new
            forbidden = {normalize(p) for p in pool} | used.setdefault(normalize(parent), set())
            options: list[str] = []
            for mate in mates:
                fresh = sorted(set(_offspring(parent, mate)) - forbidden - set(options))
                rng.shuffle(fresh)
                options.extend(fresh)
                if len(options) >= self.children:
                    break
            out.append(options[: self.children])
            used[normalize(parent)].update(options[: self.children])
        return out


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
