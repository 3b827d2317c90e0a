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

from zp_evolve.cjk import has_cjk
from zp_evolve.prompts import BLANK, CHOICES_SEPARATOR, PLACEHOLDER, placeholders, template_problems

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
DROP_REASONS = ("empty", "chatter", "lost_slot", "copy", "length", "answered", "unrelated")
_QUESTION = re.compile(r"[?？]|吗")
_STOPWORDS = frozenset(
    "the a an of to in on for and or is are was were be this that these those it its with as by at from what which "
    "who whom whose how why when where does do did can could would should will not no yes your you my our their "
    "his her they them there here about following above below".split()
)


def clean_generation(text: str) -> str:
    """The first line of ``text`` without chatter prefixes, numbering, markdown, wrapping quotes,
    span marks (``{{``, ``}}``: only the engine places them) or answer choices (what follows ``|||``)."""
    text = text.replace("**", "").replace("`", "").replace("{{", " ").replace("}}", " ").strip()
    text = text.split("\n", 1)[0].split(CHOICES_SEPARATOR, 1)[0].strip()
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
    if has_cjk(text):
        return sum(1 for c in text if unicodedata.category(c).startswith("L"))
    return len(re.findall(r"\w+", text))


def is_question(text: str) -> bool:
    """True when the text outside slots asks something (a question mark, or Chinese 吗)."""
    return bool(_QUESTION.search(BLANK.sub(" ", PLACEHOLDER.sub(" ", text))))


def content_terms(text: str) -> set[str]:
    """Lower-cased content words (CJK characters for Chinese) outside slots, for overlap checks."""
    text = BLANK.sub(" ", PLACEHOLDER.sub(" ", text)).lower()
    if has_cjk(text):
        return {c for c in text if unicodedata.category(c) == "Lo"}
    return {w for w in re.findall(r"[a-z0-9]+", text) if len(w) > 2 and w not in _STOPWORDS}


def comparable(text: str) -> str:
    """Lower-case letters and digits only: two texts equal here differ only in case, spaces or punctuation."""
    return "".join(c for c in unicodedata.normalize("NFKC", text).lower() if c.isalnum() or c in "[]_")


class CandidateFilter:
    """Judges candidates against the text they reword and counts every verdict.

    Besides slots, copies and length, two checks catch a weak model doing the task
    instead of rewording it: a question that comes back as a statement
    (``answered``: "Is this review good or bad?" -> "This review is great."), and a
    candidate that shares no content word with an original that has three or more
    (``unrelated``). ``avoid`` holds texts to treat as copies too: the few-shot
    examples, which small models like to repeat verbatim.

    Args:
        min_ratio: the fewest content words a candidate may have, as a share of the original's.
        max_ratio: the most, as a multiple of the original's (originals count as >= 3 words).
        avoid: texts a candidate may not equal (compared like copies).
        drop_answers: apply the ``answered`` check.
        min_overlap: content words a candidate must share with an original of three or
            more (0 turns the ``unrelated`` check off).
    """

    def __init__(
        self,
        min_ratio: float = 0.5,
        max_ratio: float = 2.0,
        avoid: Sequence[str] = (),
        drop_answers: bool = True,
        min_overlap: int = 1,
    ) -> None:
        self.min_ratio = min_ratio
        self.max_ratio = max_ratio
        self.avoid = {comparable(a) for a in avoid}
        self.drop_answers = drop_answers
        self.min_overlap = min_overlap
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
        elif template_problems(candidate, required) or sorted(placeholders(candidate)) != sorted(required):
            return "lost_slot"  # template_problems() allows a repeated placeholder; the engine does not
        if comparable(candidate) == comparable(original) or comparable(candidate) in self.avoid:
            return "copy"
        words, before = content_words(candidate), max(content_words(original), 3)
        if not self.min_ratio * before <= words <= self.max_ratio * before:
            return "length"
        if self.drop_answers and is_question(original) and not is_question(candidate):
            return "answered"
        terms = content_terms(original)
        if self.min_overlap and len(terms) >= 3 and len(terms & content_terms(candidate)) < self.min_overlap:
            return "unrelated"
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
