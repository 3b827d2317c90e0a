"""Clean and filter what a language model returns as a paraphrase.

Small instruct models wrap their answer in chatter ("Sure! Here is the
rewritten prompt:"), quotes, numbering or markdown, run on past the first line,
drop slots, copy the input or answer the question instead of rewording it. The
filter keeps a candidate only if it survives every check, and counts why the
others failed, so the yield of a prompt format can be measured.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from typing import Sequence

from zp_evolve.prompts import BLANK, PLACEHOLDER, template_problems
from zp_mutators.segments import is_chinese

_PREFIX = re.compile(
    r"^\s*(?:sure|certainly|okay|ok|of course|absolutely|great|here(?:'s| is| are)|paraphrased?|paraphrasing|"
    r"rewritten|rewrite|rewording|reworded|output|result|new (?:prompt|template|version|phrase)|template|prompt|"
    r"phrase|sentence(?: ?\d)?|version(?: ?\d)?|改写|复述)\b[^:\n：]{0,60}[:：]\s*",
    re.IGNORECASE,
)
_INTERJECTION = re.compile(r"^\s*(?:sure|certainly|okay|ok|of course|absolutely|great)[!.,]\s*", re.IGNORECASE)
_NUMBERING = re.compile(r"^\s*(?:\d+[.)]|[-*•])\s+")
_CHATTER = re.compile(
    r"^\s*(?:i(?:'m| am) (?:sorry|not sure|happy|glad)|as an ai|i can(?:not|'t)|sorry|note:|in this (?:example|scenario)|"
    r"the (?:original|rewritten|paraphrased) )",
    re.IGNORECASE,
)
_QUOTES = {'"': '"', "“": "”", "'": "'", "「": "」", "‘": "’"}
#: Reasons a candidate is dropped, in the order they are checked.
DROP_REASONS = ("empty", "chatter", "lost_slot", "copy", "length")


def clean_generation(text: str) -> str:
    """The first line of ``text`` without chatter prefixes, numbering, markdown or wrapping quotes."""
    text = text.replace("**", "").replace("`", "").strip()
    text = text.split("\n", 1)[0].strip()
    for _ in range(2):  # "Sure! Here is the rewritten prompt: ..." needs two passes
        text = _INTERJECTION.sub("", text)
        text = _PREFIX.sub("", text)
    text = _NUMBERING.sub("", text).strip()
    if len(text) > 1 and text[0] in _QUOTES and text.endswith(_QUOTES[text[0]]):
        text = text[1:-1].strip()
    elif text.endswith('"') and text.count('"') % 2 == 1:  # the closing quote of a quoted answer
        text = text[:-1].strip()
    elif text.startswith('"') and text.count('"') % 2 == 1:
        text = text[1:].strip()
    return " ".join(text.split())


def content_words(text: str) -> int:
    """Words (CJK characters for Chinese) outside slots: what a length check compares."""
    text = BLANK.sub(" ", PLACEHOLDER.sub(" ", text))
    if is_chinese(text):
        return sum(1 for c in text if unicodedata.category(c).startswith("L"))
    return len(re.findall(r"\w+", text))


def comparable(text: str) -> str:
    """Lower-case letters and digits only: two texts equal here differ only in case, spaces or punctuation."""
    return "".join(c for c in unicodedata.normalize("NFKC", text).lower() if c.isalnum() or c in "[]_")


class CandidateFilter:
    """Judges candidates against the text they reword and counts every verdict.

    Args:
        min_ratio: the fewest content words a candidate may have, as a share of the original's.
        max_ratio: the most, as a multiple of the original's (originals count as >= 3 words).
    """

    def __init__(self, min_ratio: float = 0.5, max_ratio: float = 2.0) -> None:
        self.min_ratio = min_ratio
        self.max_ratio = max_ratio
        self.counts: Counter = Counter()

    def reason(self, candidate: str, original: str, required: Sequence[str] | None = None) -> str | None:
        """Why ``candidate`` is dropped (one of :data:`DROP_REASONS`), or None to keep it.

        ``required``: the slots a whole template must keep; None for a slot-free
        piece of text, which must then hold no slot at all.
        """
        if not candidate.strip():
            return "empty"
        if _CHATTER.match(candidate):
            return "chatter"
        if required is None:
            if PLACEHOLDER.search(candidate) or BLANK.search(candidate):
                return "lost_slot"
        elif template_problems(candidate, required):
            return "lost_slot"
        if comparable(candidate) == comparable(original):
            return "copy"
        words, before = content_words(candidate), max(content_words(original), 3)
        if not self.min_ratio * before <= words <= self.max_ratio * before:
            return "length"
        return None

    def keep(self, candidate: str, original: str, required: Sequence[str] | None = None) -> bool:
        """Judge and count: True when the candidate survives."""
        reason = self.reason(candidate, original, required)
        self.counts[reason or "kept"] += 1
        return reason is None

    def summary(self) -> dict[str, object]:
        """Counts per verdict and the yield (kept / generated)."""
        total = sum(self.counts.values())
        return {"generated": total, **dict(sorted(self.counts.items())), "yield": round(self.counts["kept"] / total, 3) if total else 0.0}
