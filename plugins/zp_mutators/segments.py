"""Split prompt templates into tokens, phrases and sentences that keep their slots intact.

Every model-free operator works on these units. A *slot* is a placeholder
(``[X]``, ``[X1]``...) or the answer blank ``_``; slots are never split, edited
or duplicated. English text splits into words and punctuation; Chinese (any
CJK character) into single characters, since it has no spaces.

A prompt with fixed spans (:mod:`zp_evolve.spans`) tokenizes with
:func:`tokenize_spans`: tokens of fixed text are ``fixed`` and, like slots, never
part of a phrase or stretch; each editable span is enclosed by two zero-width
``open``/``close`` tokens, so an operator knows where it may insert text, even
into an empty span. A prompt without marks gets exactly :func:`tokenize`'s tokens.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, Sequence

from zp_evolve.cjk import CJK_CLASS, has_cjk
from zp_evolve.prompts import BLANK, PLACEHOLDER
from zp_evolve.spans import Span, is_marked

TokenKind = Literal["slot", "word", "punct", "space", "open", "close"]

# Order matters: slots first (zp_evolve.prompts' own patterns), then words, CJK characters, punctuation.
_WORD_CHAR = r"A-Za-z0-9\u00c0-\u024f'-"
_TOKEN = re.compile(
    rf"(?P<slot>{PLACEHOLDER.pattern}|{BLANK.pattern})|(?P<space>\s+)"
    # an underscore is part of a word only next to [A-Za-z0-9], exactly where BLANK says it is no blank
    rf"|(?P<word>(?:[{_WORD_CHAR}]|(?<=[A-Za-z0-9])_|_(?=[A-Za-z0-9]))+|[{CJK_CLASS}])|(?P<punct>.)",
    re.DOTALL,
)
#: Punctuation that ends a phrase (commas too) and a sentence (no commas).
PHRASE_END = set(",;:.?!，、；：。？！")
SENTENCE_END = set(";:.?!；：。？！")


@dataclass(frozen=True)
class Token:
    """One unit of a template: a slot, a word (or CJK character), punctuation or whitespace.

    ``fixed`` tokens belong to a fixed span; ``open``/``close`` tokens (empty text)
    enclose an editable span.
    """

    text: str
    kind: TokenKind
    fixed: bool = False

    @property
    def frozen(self) -> bool:
        """True for what no operator may edit, split or cross: slots, fixed text, span edges."""
        return self.fixed or self.kind in ("slot", "open", "close")


def is_slot(text: str) -> bool:
    """True for a placeholder such as ``[X1]`` or the blank ``_``."""
    return text == "_" or PLACEHOLDER.fullmatch(text) is not None


def tokenize(template: str) -> list[Token]:
    """Tokens whose concatenation is exactly ``template``."""
    tokens = []
    for match in _TOKEN.finditer(template):
        tokens.append(Token(match.group(), match.lastgroup))  # type: ignore[arg-type]
    return tokens


def tokenize_spans(text: str, spans: Sequence[Span] | None = None) -> list[Token]:
    """Tokens of ``text`` (the prompt without marks) with its fixed and editable spans.

    ``spans`` (as :func:`zp_evolve.spans.split_spans` gives them) must concatenate to
    ``text``; ``None`` or one editable span gives :func:`tokenize`'s tokens.
    """
    if not spans or not is_marked(spans):
        return tokenize(text)
    tokens: list[Token] = []
    for span in spans:
        if span.editable:
            tokens += [Token("", "open"), *tokenize(span.text), Token("", "close")]
        else:
            tokens += [Token(t.text, t.kind, fixed=True) for t in tokenize(span.text)]
    return tokens


def has_spans(tokens: Sequence[Token]) -> bool:
    """True when ``tokens`` came from a prompt with fixed spans."""
    return any(t.kind == "open" for t in tokens)


def editable_positions(tokens: Sequence[Token]) -> set[int]:
    """Insertion points inside editable spans (every point for a prompt without spans)."""
    if not has_spans(tokens):
        return set(range(len(tokens) + 1))
    inside, out = False, set()
    for index, token in enumerate(tokens):
        if token.kind == "open":
            inside = True
        elif token.kind == "close":
            out.add(index)
            inside = False
        if inside:
            out.add(index + 1)
    return out


def detokenize(tokens: Sequence[Token]) -> str:
    """Join tokens and tidy the whitespace that edits leave behind."""
    text = "".join(t.text for t in tokens)
    return " ".join(text.split())


def slots_of(tokens: Sequence[Token]) -> list[str]:
    """The slots in order, e.g. ``["[X]", "_"]``."""
    return [t.text for t in tokens if t.kind == "slot"]


def slot_signature(text: str) -> list[str]:
    """Sorted slots of a template: two templates are interchangeable when these are equal."""
    return sorted(slots_of(tokenize(text)))


def phrases(tokens: Sequence[Token]) -> list[tuple[int, int]]:
    """Half-open token ranges of the slot-free phrases (of editable text only).

    A phrase is a run of tokens between slots (and fixed text), cut after punctuation that ends a
    phrase (``, ; : . ? !`` and their CJK forms). It starts at a word (quotes and
    spaces glued to a slot stay outside) and ends before trailing whitespace.
    """
    out: list[tuple[int, int]] = []
    start = None

    def close(end: int) -> None:
        nonlocal start
        if start is not None:
            span = tokens[start:end]
            if any(t.kind == "word" for t in span):
                while span and span[-1].kind == "space":
                    span = span[:-1]
                    end -= 1
                out.append((start, end))
        start = None

    for index, token in enumerate(tokens):
        if token.frozen:
            close(index)
            continue
        if start is None:
            if token.kind != "word":  # quotes or spaces glued to the previous slot stay outside
                continue
            start = index
        if token.kind == "punct" and token.text in PHRASE_END:
            close(index + 1)
    close(len(tokens))
    return out


def stretches(tokens: Sequence[Token]) -> list[tuple[int, int]]:
    """Maximal slot-free runs of editable text that hold a word, from their first word to their
    last word or phrase punctuation: quotes and spaces that hug the next slot stay outside."""
    out: list[tuple[int, int]] = []
    start = None
    for index, token in enumerate([*tokens, Token("_", "slot")]):
        if token.frozen:
            if start is not None:
                end = index
                while tokens[end - 1].kind == "space" or (tokens[end - 1].kind == "punct" and tokens[end - 1].text not in PHRASE_END):
                    end -= 1
                out.append((start, end))
            start = None
        elif start is None and token.kind == "word":
            start = index
    return out


def word_spans(tokens: Sequence[Token], span: tuple[int, int], max_words: int) -> list[tuple[int, int]]:
    """Sub-ranges of ``span`` holding 1..``max_words`` consecutive words (punctuation kept out)."""
    words = [i for i in range(*span) if tokens[i].kind == "word"]
    out = []
    for a in range(len(words)):
        for b in range(a, min(a + max_words, len(words))):
            # only spans of words that are adjacent apart from spaces
            if all(tokens[k].kind in ("word", "space") for k in range(words[a], words[b] + 1)):
                out.append((words[a], words[b] + 1))
    return out


def sentences(tokens: Sequence[Token]) -> list[list[Token]]:
    """Tokens cut after sentence punctuation; each piece keeps its leading whitespace."""
    out: list[list[Token]] = [[]]
    for index, token in enumerate(tokens):
        out[-1].append(token)
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        # "?_" and "._" style endings: cut only when the punctuation is not glued to a slot.
        if token.kind == "punct" and token.text in SENTENCE_END and following is not None and following.kind != "punct":
            out.append([])
    return [piece for piece in out if any(t.kind != "space" for t in piece)]


def joiner(text: str) -> str:
    """What separates inserted pieces: a space in English, nothing in Chinese."""
    return "" if has_cjk(text) else " "
