"""Where the verbalizer candidates V go in the hard prompt (the ``verbalizers`` switch).

* ``before``: ``Options: a, b. `` ahead of the description (the paper's V + D; ``true``);
* ``none``: no V (Table 4's -V; ``false``);
* ``after_input``: ``Options: a, b.`` on its own line right after the input: after the
  line of the last input placeholder that comes before the blank (when the blank shares
  that line, right after the input text and any punctuation closing it); with no input
  before the blank, ahead of the prompt;
* ``answer_format``: ``Answer with one of: a, b.`` as the last line the model reads before
  its answer's own line: after the text that follows the blank for a cloze prompt, else
  as the line above the blank's line (the answer must still continue the prefix); when the
  blank shares its line with the input, that line is split after the input as for
  ``after_input``.

Training items and every backend build their query through
:func:`zp_hf.formatting.make_query`, which applies these rules, so a model is scored with
the placement it was trained with. Plain data, importable without torch.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path
from typing import Literal, Mapping, Sequence, Union

from zp_evolve.prompts import BLANK, PLACEHOLDER, AssembledPrompt, strip_marks, template_of, verbalizer_prompt

Placement = Literal["none", "before", "after_input", "answer_format"]
PLACEMENTS: tuple[str, ...] = ("none", "before", "after_input", "answer_format")
#: What a config or backend option may say: a placement, or the old switch (true: before, false: none).
VerbalizerSetting = Union[bool, Placement]

ANSWER_FORMATS = {"en": "Answer with one of: {options}.", "zh": "请从以下选项中选择一个回答：{options}。"}
_SEPARATORS = {"en": ", ", "zh": "，"}


def placement(value: VerbalizerSetting | None) -> str:
    """The placement a setting means: ``True`` and ``None`` (not set) are ``before``, ``False`` is ``none``."""
    if value is None or value is True:
        return "before"
    if value is False:
        return "none"
    if value not in PLACEMENTS:
        from zp_evolve.errors import ConfigError, ConfigIssue

        allowed = f"{', '.join(PLACEMENTS)}, true or false"
        raise ConfigError([ConfigIssue("verbalizers", f"unknown placement {value!r}; use one of {allowed}")])
    return value


def _language(language: str) -> str:
    return language.split("-")[0]


def answer_format_line(candidates: Sequence[str], language: str) -> str:
    lang = _language(language)
    template = ANSWER_FORMATS.get(lang, ANSWER_FORMATS["en"])
    return template.format(options=_SEPARATORS.get(lang, _SEPARATORS["en"]).join(candidates))


def _input_end(template: str, inputs: Mapping[str, str]) -> int | None:
    """Length of the filled prefix up to the end of the last input before the blank (None: no input there)."""
    head = BLANK.split(strip_marks(template_of(template)), maxsplit=1)[0]
    matches = list(PLACEHOLDER.finditer(head))
    if not matches:
        return None
    filled = PLACEHOLDER.sub(lambda m: inputs[m.group(1)], head[: matches[-1].end()])
    return len(filled)


def _after_input(prompt: AssembledPrompt, line: str, end: int | None) -> AssembledPrompt:
    prefix = prompt.prefix
    if end is None:
        return AssembledPrompt(prefix=f"{line}\n{prefix}", suffix=prompt.suffix)
    while end < len(prefix) and unicodedata.category(prefix[end]).startswith("P"):
        end += 1  # a closing quote or full stop stays with the input
    head, rest = prefix[:end], prefix[end:]
    if "\n" in rest:
        cut = rest.index("\n")
        return AssembledPrompt(prefix=f"{head}{rest[:cut]}\n{line}{rest[cut:]}", suffix=prompt.suffix)
    return AssembledPrompt(prefix=f"{head}\n{line}\n{rest.lstrip(' ')}", suffix=prompt.suffix)


def _answer_format(prompt: AssembledPrompt, line: str, end: int | None) -> AssembledPrompt:
    if prompt.is_cloze:
        return AssembledPrompt(prefix=prompt.prefix, suffix=f"{prompt.suffix.rstrip()}\n{line}")
    prefix = prompt.prefix
    cut = prefix.rfind("\n")  # the blank's line starts after it
    if cut >= 0 and (end is None or cut >= end):
        return AssembledPrompt(prefix=f"{prefix[:cut]}\n{line}{prefix[cut:]}", suffix=prompt.suffix)
    return _after_input(prompt, line, end)  # the blank shares the input's line: split it there


def place(
    prompt: AssembledPrompt, where: str, *, template: str, inputs: Mapping[str, str], candidates: Sequence[str], language: str
) -> AssembledPrompt:
    """``prompt`` (assembled without V) with V placed ``after_input`` or as ``answer_format``."""
    if not candidates or where in ("none", "before"):
        return prompt
    if where == "after_input":
        return _after_input(prompt, verbalizer_prompt(candidates, language).strip(), _input_end(template, inputs))
    return _answer_format(prompt, answer_format_line(candidates, language), _input_end(template, inputs))


def trained_prompt(
    source: str, verbalizers: VerbalizerSetting | None, description: bool | None
) -> tuple[VerbalizerSetting, bool]:
    """V and D switches for a model: as given, else as the checkpoint at ``source`` was
    trained (its ``training.json``), else V before D, D on."""
    path = Path(source) / "training.json"
    prompt: Mapping[str, object] = {}
    if (verbalizers is None or description is None) and path.is_file():
        try:
            prompt = json.loads(path.read_text(encoding="utf-8")).get("prompt") or {}
        except (OSError, ValueError):
            prompt = {}
    if verbalizers is None:
        verbalizers = prompt.get("verbalizers", True)  # type: ignore[assignment]
    if description is None:
        description = bool(prompt.get("description", True))
    placement(verbalizers)  # an unknown value fails here, with the allowed ones
    return verbalizers, description  # type: ignore[return-value]
