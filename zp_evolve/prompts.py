"""Prompt templates: placeholders, validation, rendering and hybrid-prompt assembly.

A template is plain text with input placeholders ``[X]``, ``[X1]``, ``[X2]``, ``[X3]``
and the answer blank ``_`` (the paper's Tables 9-17). Cloze prompts put the blank
inside the text; prefix prompts end with it. ``{{...}}`` marks the spans mutation
operators may change (:mod:`zp_evolve.spans`); the marks are stripped before a model
reads the prompt.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Mapping, Sequence

from zp_evolve.errors import DataError
from zp_evolve.spans import canonical_template, mark_problems, strip_marks

PLACEHOLDER = re.compile(r"\[(X\d*)\]")
# The blank is an underscore that is not part of an identifier-like token.
BLANK = re.compile(r"(?<![A-Za-z0-9_])_(?![A-Za-z0-9_])")
BLANK_TOKEN = "_"


def placeholders(template: str) -> list[str]:
    """Placeholder names in order of appearance, e.g. ``["X1", "X2"]``."""
    return PLACEHOLDER.findall(template)


def blank_count(template: str) -> int:
    return len(BLANK.findall(template))


def normalize(template: str) -> str:
    """Canonical form used to detect duplicates: NFKC, single spaces, stripped (and marks canonical)."""
    return canonical_template(" ".join(unicodedata.normalize("NFKC", template).split()))


def template_wording(template: str) -> str:
    """The words of a template: its placeholders and answer blank removed (for length and fluency)."""
    return " ".join(BLANK.sub(" ", PLACEHOLDER.sub(" ", template)).split())


def missing_placeholders(template: str, required: Sequence[str]) -> list[str]:
    present = set(placeholders(template))
    return [name for name in required if name not in present]


def check_template(template: str, required: Sequence[str], *, where: str = "") -> None:
    """Raise :class:`DataError` unless ``template`` holds every required placeholder once and one blank."""
    problems = template_problems(template, required)
    if problems:
        prefix = f"{where}: " if where else ""
        raise DataError(f"{prefix}prompt {template!r} {'; '.join(problems)}")


def template_problems(template: str, required: Sequence[str]) -> list[str]:
    problems = []
    missing = missing_placeholders(template, required)
    if missing:
        wanted = " ".join(f"[{n}]" for n in required)
        problems.append(f"lacks placeholder(s) {', '.join(f'[{n}]' for n in missing)}; it must contain {wanted}")
    extra = sorted(set(placeholders(template)) - set(required))
    if extra:
        problems.append(f"has unknown placeholder(s) {', '.join(f'[{n}]' for n in extra)}")
    blanks = blank_count(template)
    if blanks != 1:
        problems.append(f"must contain the answer blank '_' exactly once (found {blanks})")
    problems.extend(mark_problems(template))
    return problems


def render(template: str, inputs: Mapping[str, str], *, answer: str | None = None) -> str:
    """Fill the placeholders (and the blank, if ``answer`` is given); span marks are dropped."""
    template = strip_marks(template)
    missing = missing_placeholders(template, list(inputs))
    if missing:
        raise DataError(
            f"prompt {template!r} lacks placeholder(s) {', '.join(f'[{n}]' for n in missing)} "
            f"needed for inputs {sorted(inputs)}"
        )

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in inputs:
            raise DataError(f"prompt {template!r} uses [{name}], but the example has only {sorted(inputs)}")
        return inputs[name]

    # Split at the blank first so input text containing "_" is never mistaken for it.
    parts = BLANK.split(template, maxsplit=1)
    filled = [PLACEHOLDER.sub(fill, part) for part in parts]
    if len(filled) == 1:
        return filled[0]
    return filled[0] + (BLANK_TOKEN if answer is None else answer) + filled[1]


@dataclass(frozen=True)
class AssembledPrompt:
    """Text around the answer slot: the model reads ``prefix``, answer, ``suffix``."""

    prefix: str
    suffix: str

    @property
    def is_cloze(self) -> bool:
        """True when real text follows the blank (not only punctuation)."""
        return any(unicodedata.category(c)[0] not in "PZ" for c in self.suffix)


VERBALIZER_PROMPTS = {
    "en": "Options: {options}. ",
    "zh": "选项：{options}。",
}
_SEPARATORS = {"en": ", ", "zh": "，"}


def verbalizer_prompt(candidates: Sequence[str], language: str) -> str:
    """The V part of the hybrid prompt: every verbalizer candidate, ahead of the description."""
    template = VERBALIZER_PROMPTS.get(language, VERBALIZER_PROMPTS["en"])
    separator = _SEPARATORS.get(language, _SEPARATORS["en"])
    return template.format(options=separator.join(candidates))


def assemble(
    template: str,
    inputs: Mapping[str, str],
    *,
    candidates: Sequence[str] = (),
    language: str = "en",
    use_verbalizers: bool = True,
) -> AssembledPrompt:
    """The hard part of the hybrid prompt T = {E, V, D, X, [MASK]} (paper eq. 2).

    ``V`` (the candidates) goes first when ``use_verbalizers`` is on and there are
    candidates; ``D`` is the template with the inputs filled in; the answer slot is
    the blank. The soft prompt ``E`` is added by the model backend.
    """
    check_template(template, list(inputs))
    template = strip_marks(template)  # the marks are for mutation operators, never for the model
    parts = BLANK.split(template, maxsplit=1)
    filler = lambda part: PLACEHOLDER.sub(lambda m: inputs[m.group(1)], part)  # noqa: E731
    prefix, suffix = filler(parts[0]), filler(parts[1])
    if use_verbalizers and candidates:
        prefix = verbalizer_prompt(candidates, language) + prefix
    return AssembledPrompt(prefix=prefix, suffix=suffix)
