"""Prompt templates: placeholders, validation, rendering and hybrid-prompt assembly.

A template is plain text with input placeholders ``[X]``, ``[X1]``, ``[X2]``, ``[X3]``
and the answer blank ``_`` (the paper's Tables 9-17). Cloze prompts put the blank
inside the text; prefix prompts end with it. ``{{...}}`` marks the spans mutation
operators may change (:mod:`zp_evolve.spans`); the marks are stripped before a model
reads the prompt.

A prompt may carry its own **answer choices** after the template, separated by
``|||`` as in promptsource: ``[X1] Question: [X2] True or False? _ ||| True ||| False``
answers label ``i`` of the task with the ``i``-th choice (instead of the task's
verbalizers). The choices are part of the prompt's text, so the fitness cache, the
events, the summary, ``export`` and ``predict`` carry them; :func:`split_choices`
takes them apart and :func:`join_choices` puts them back.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Mapping, Sequence

from zp_evolve.errors import DataError
from zp_evolve.spans import canonical_template, has_marks, mark_problems, strip_marks

PLACEHOLDER = re.compile(r"\[(X\d*)\]")
# The blank is an underscore that is not part of an identifier-like token.
BLANK = re.compile(r"(?<![A-Za-z0-9_])_(?![A-Za-z0-9_])")
BLANK_TOKEN = "_"
#: Separates a template from its answer choices, and the choices from each other.
CHOICES_SEPARATOR = "|||"


def split_choices(prompt: str) -> tuple[str, tuple[str, ...]]:
    """``(template, answer choices)``; the choices are empty for a prompt without ``|||``."""
    if CHOICES_SEPARATOR not in prompt:
        return prompt, ()
    template, *choices = prompt.split(CHOICES_SEPARATOR)
    return template.rstrip(), tuple(" ".join(c.split()) for c in choices)


def join_choices(template: str, choices: Sequence[str]) -> str:
    """The prompt that answers with ``choices``: ``template ||| a ||| b`` (just ``template`` without)."""
    if not choices:
        return template
    return f" {CHOICES_SEPARATOR} ".join([template.rstrip(), *choices])


def template_of(prompt: str) -> str:
    """The template part of a prompt (its answer choices removed)."""
    return split_choices(prompt)[0]


def choice_problems(choices: Sequence[str], labels: Sequence[str] | None = None) -> list[str]:
    """What is wrong with a prompt's answer choices; ``labels`` (when known) are the task's, in order.

    A task without fixed labels (generation, or multiple choice with per-example
    options) takes no per-prompt choices: pass ``labels=()``.
    """
    if not choices:
        return []
    problems = []
    if labels is not None and not labels:
        problems.append(
            "has answer choices after '|||', but the task has no fixed labels (it is generative or multiple "
            "choice, whose options come with each example); remove the '||| ...' part"
        )
        return problems
    if any(not c for c in choices):
        problems.append("has an empty answer choice (write 'template ||| choice 1 ||| choice 2')")
    repeated = sorted({c for c in choices if c and list(choices).count(c) > 1})
    if repeated:
        problems.append(f"repeats answer choice(s) {', '.join(map(repr, repeated))}")
    odd = [c for c in choices if PLACEHOLDER.search(c) or BLANK.search(c)]
    if odd:
        problems.append(f"has a placeholder or the blank in answer choice(s) {', '.join(map(repr, odd))}")
    marked = [c for c in choices if has_marks(c)]
    if marked:
        problems.append(f"has span marks in answer choice(s) {', '.join(map(repr, marked))} (marks go in the template only)")
    if labels is not None and len(choices) != len(labels):
        problems.append(
            f"has {len(choices)} answer choice(s) for the task's {len(labels)} labels "
            f"({', '.join(map(repr, labels))}, in this order)"
        )
    return problems


def placeholders(template: str) -> list[str]:
    """Placeholder names in order of appearance, e.g. ``["X1", "X2"]``."""
    return PLACEHOLDER.findall(template)


def blank_count(template: str) -> int:
    return len(BLANK.findall(template))


def normalize(template: str) -> str:
    """Canonical form used to detect duplicates: NFKC, single spaces, stripped (and marks canonical).

    Answer choices stay, each with single spaces, joined by `` ||| ``.
    """
    text, choices = split_choices(unicodedata.normalize("NFKC", template))
    return join_choices(canonical_template(" ".join(text.split())), choices)


def template_wording(template: str) -> str:
    """The words of a template: its placeholders, answer blank and answer choices removed (for length and fluency)."""
    return " ".join(BLANK.sub(" ", PLACEHOLDER.sub(" ", template_of(template))).split())


def missing_placeholders(template: str, required: Sequence[str]) -> list[str]:
    present = set(placeholders(template))
    return [name for name in required if name not in present]


def check_template(
    template: str, required: Sequence[str], *, where: str = "", labels: Sequence[str] | None = None
) -> None:
    """Raise :class:`DataError` unless ``template`` holds every required placeholder once and one blank
    (and, with ``labels``, one valid answer choice per label if it has choices)."""
    problems = template_problems(template, required, labels=labels)
    if problems:
        prefix = f"{where}: " if where else ""
        raise DataError(f"{prefix}prompt {template!r} {'; '.join(problems)}")


def template_problems(template: str, required: Sequence[str], *, labels: Sequence[str] | None = None) -> list[str]:
    """What is wrong with a prompt: its placeholders, its blank, its span marks and its answer choices.

    ``labels`` are the task's labels in order (``()`` for a task without fixed labels);
    with them the number of answer choices is checked too.
    """
    template, choices = split_choices(template)
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
    problems.extend(choice_problems(choices, labels))
    return problems


def render(template: str, inputs: Mapping[str, str], *, answer: str | None = None) -> str:
    """Fill the placeholders (and the blank, if ``answer`` is given); span marks and answer choices are dropped."""
    template = strip_marks(template_of(template))
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
    the blank. The soft prompt ``E`` is added by the model backend. A prompt's own
    answer choices are dropped here: the caller passes them as ``candidates``
    (:meth:`zp_evolve.tasks.Task.answer_words`).
    """
    template = template_of(template)
    check_template(template, list(inputs))
    template = strip_marks(template)  # the marks are for mutation operators, never for the model
    parts = BLANK.split(template, maxsplit=1)
    filler = lambda part: PLACEHOLDER.sub(lambda m: inputs[m.group(1)], part)  # noqa: E731
    prefix, suffix = filler(parts[0]), filler(parts[1])
    if use_verbalizers and candidates:
        prefix = verbalizer_prompt(candidates, language) + prefix
    return AssembledPrompt(prefix=prefix, suffix=suffix)
