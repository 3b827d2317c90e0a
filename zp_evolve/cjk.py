"""Which characters are CJK: the one definition every tokeniser, metric and detector uses.

Chinese and Japanese are written without spaces between words, so wherever text is
split into words (metrics, 30-gram decontamination, prompt segmentation) each CJK
character is a token of its own. Hangul syllables are counted too, as the CMRC-style
metrics did: one token per syllable is finer than Korean's spaced words, never coarser.
"""

from __future__ import annotations

import re

#: Han ideographs: Extension A, the Unified block, Compatibility, and Extensions B-F
#: with their supplement (the supplementary planes).
HAN = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2FA1F))
#: Hiragana and Katakana.
KANA = ((0x3040, 0x30FF),)
#: Hangul syllables.
HANGUL = ((0xAC00, 0xD7AF),)
#: Every range above: characters that are one token each.
CJK = HAN + KANA + HANGUL

#: The body of a regular-expression character class matching one CJK character.
CJK_CLASS = "".join(f"{chr(low)}-{chr(high)}" for low, high in sorted(CJK))
_CJK_CHAR = re.compile(f"[{CJK_CLASS}]")


def in_ranges(char: str, ranges: tuple[tuple[int, int], ...]) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in ranges)


def is_cjk(char: str) -> bool:
    """True for one CJK character (Han, Kana or Hangul)."""
    return in_ranges(char, CJK)


def has_cjk(text: str) -> bool:
    """True when ``text`` holds any CJK character (then its words are characters)."""
    return _CJK_CHAR.search(text) is not None
