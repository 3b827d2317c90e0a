"""An example zp_evolve plugin: a synonym-swap mutator and a case-insensitive metric."""

from __future__ import annotations

import random
import re
from typing import Sequence

from zp_evolve import hookimpl

SYNONYMS = {
    "review": ["critique", "opinion", "comment"],
    "sentiment": ["feeling", "attitude", "tone"],
    "movie": ["film", "picture"],
    "text": ["passage", "message"],
    "answer": ["reply", "response"],
    "question": ["query"],
    "topic": ["subject", "theme"],
    "is": ["seems"],
    "what": ["which"],
}
WORD = re.compile(r"[A-Za-z]+")


class SynonymSwap:
    """Replace up to ``swaps`` known words with a synonym; placeholders are never words here."""

    def __init__(self, swaps: int = 1) -> None:
        self.swaps = swaps

    def mutate(self, parents: Sequence[str], *, rng: random.Random) -> list[list[str]]:
        children = []
        for parent in parents:
            spans = [m for m in WORD.finditer(parent) if m.group().lower() in SYNONYMS]
            child = parent
            for match in sorted(rng.sample(spans, min(self.swaps, len(spans))), key=lambda m: -m.start()):
                word = match.group()
                choice = rng.choice(SYNONYMS[word.lower()])
                choice = choice.capitalize() if word[0].isupper() else choice
                child = child[: match.start()] + choice + child[match.end() :]
            children.append([child])
        return children


def exact_match_ci(predictions: Sequence[str], references: Sequence[str]) -> float:
    """Share of predictions equal to their reference, ignoring case and outer spaces."""
    pairs = list(zip(predictions, references))
    return sum(p.strip().lower() == r.strip().lower() for p, r in pairs) / len(pairs) if pairs else 0.0


@hookimpl
def zp_register_mutators(register):
    register("synonym_swap", SynonymSwap)


@hookimpl
def zp_register_metrics(register):
    register("exact_match_ci", exact_match_ci)
