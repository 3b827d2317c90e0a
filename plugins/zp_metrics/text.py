"""Text normalisation and tokenisation shared by the generation metrics.

English follows the SQuAD v1.1 evaluation script (lower case, no punctuation, no
articles, single spaces). Chinese (and other CJK scripts) has no spaces, so every
CJK character is one token, as the CMRC 2018 evaluation does; Latin words and
numbers inside Chinese text stay whole.
"""

from __future__ import annotations

import re
import string
import unicodedata

from zp_evolve.cjk import has_cjk, is_cjk

_ARTICLES = re.compile(r"\b(a|an|the)\b")
def _is_punctuation(char: str) -> bool:
    return char in string.punctuation or unicodedata.category(char).startswith("P")


def normalize_answer(text: str) -> str:
    """SQuAD v1.1 normalisation, extended to Unicode punctuation (e.g. ``，。“”``)."""
    text = text.lower()
    text = "".join(c for c in text if not _is_punctuation(c))
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def answer_tokens(text: str) -> list[str]:
    """Tokens of a normalised answer: whitespace words, with CJK split by character."""
    tokens: list[str] = []
    for word in normalize_answer(text).split():
        tokens.extend(split_cjk(word))
    return tokens


def split_cjk(word: str) -> list[str]:
    """``"abc中文12"`` -> ``["abc", "中", "文", "12"]``."""
    out: list[str] = []
    run = ""
    for char in word:
        if is_cjk(char):
            if run:
                out.append(run)
                run = ""
            out.append(char)
        else:
            run += char
    if run:
        out.append(run)
    return out


_NON_ALNUM = re.compile(r"[^a-z0-9]+")


class CJKRougeTokenizer:
    """A rouge-score tokenizer that keeps CJK characters, one token each.

    rouge-score's default tokenizer replaces every character outside ``[a-z0-9]``
    with a space, so Chinese text has no tokens at all and every score is 0. On
    text without CJK this gives exactly the default tokens (no stemming).
    """

    def tokenize(self, text: str) -> list[str]:
        tokens: list[str] = []
        run: list[str] = []

        def flush() -> None:
            if run:
                tokens.extend(t for t in _NON_ALNUM.sub(" ", "".join(run)).split() if t)
                run.clear()

        for char in text.lower():
            if is_cjk(char):
                flush()
                tokens.append(char)
            else:
                run.append(char)
        flush()
        return tokens
