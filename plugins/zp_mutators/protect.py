"""Hide slots from text generators and translators, then put them back.

Each slot (``[X]``, ``[X1]``..., the blank ``_``) becomes a nonce word such as
``Zpq0``. Translators pass unknown words through unchanged (Apertium with ``-u``
does by design), so the slot comes back where the translation put it. A text
whose nonce words were lost or repeated cannot be restored faithfully.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from zp_evolve.prompts import BLANK, PLACEHOLDER

_SLOT = re.compile(f"{PLACEHOLDER.pattern}|{BLANK.pattern}")
_PREFIX = "Zpq"
_NONCE = re.compile(rf"{_PREFIX}(\d+)", re.IGNORECASE)


@dataclass(frozen=True)
class Protected:
    """A template with its slots replaced by nonce words, and the way back."""

    text: str
    slots: tuple[str, ...]

    def restore(self, text: str) -> str | None:
        """``text`` with the slots back, or None when a nonce word is missing or repeated."""
        found = [int(m.group(1)) for m in _NONCE.finditer(text)]
        if sorted(found) != list(range(len(self.slots))):
            return None
        return self.restore_partial(text)

    def restore_partial(self, text: str) -> str:
        """Put back every slot that survived (others stay lost), for rejection statistics."""

        def back(match: re.Match[str]) -> str:
            index = int(match.group(1))
            return self.slots[index] if index < len(self.slots) else match.group()

        return " ".join(_NONCE.sub(back, text).split())


def protect(template: str) -> Protected:
    """Replace each slot of ``template`` with ``Zpq<i>`` (numbered in order of appearance)."""
    slots: list[str] = []

    def hide(match: re.Match[str]) -> str:
        slots.append(match.group())
        return f"{_PREFIX}{len(slots) - 1}"

    return Protected(_SLOT.sub(hide, template), tuple(slots))
