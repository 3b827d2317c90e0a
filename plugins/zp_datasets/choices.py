"""Answer options written into a prompt, turned into per-example candidates.

Exams and puzzles put their options in the text in many ways. :func:`lettered_options`
reads the lettered or numbered ones:

- one option a line: ``A. x``, ``A) x``, ``(A) x``, ``[A] x``, ``A: x``, ``A - x``,
  ``A、x``, ``1: x`` (a line that is not an option continues the one before);
- several on one line: ``a) x  b) y``, ``A: x, B: y``, ``A. x B. y.``, ``。A x。B y``.

:func:`listed_options` reads unlettered lists: ``Choices: x, y, z`` and
``options: [x, y, z]``. :func:`multiple_choice` turns a prompt and its answer (a letter
or the option's text) into ``(candidates, target)``, or says why it cannot.
"""

from __future__ import annotations

import re
from typing import Sequence, Union

#: The markers tried: upper- and lower-case letters and digits.
MARKER_SETS = ("ABCDEFGHIJ", "abcdefghij", "123456789")
_SEP = r"(?:\s*[.):：、]|\s+[-–])"
#: Words that start the instructions after the last option, not more of it.
_END_WORDS = r"(?:Answer|Please|For each|The output|The answer|Respond|Select|Choose|Your reply|Output|回答|答案)"
_LINE_END = re.compile(rf"^\s*(?:{_END_WORDS}\b|$)", re.IGNORECASE)
_INLINE_END = re.compile(rf"[.。!?！？](?=\s|$)|\s+{_END_WORDS}\b|\s*\n")
_LIST = re.compile(r"(?i)\b(?:choices|options)\s*[:：]\s*(\[[^\]\n]*\]|[^\n]*)")
Options = list[tuple[str, str]]


def _clean(text: str) -> str:
    return " ".join(text.split()).strip(" ,;，；").rstrip(".。").strip()


def _line_marker(line: str, markers: str) -> tuple[str, str] | None:
    pattern = rf"^\s*(?:\(([{markers}])\)|\[([{markers}])\]|([{markers}]){_SEP})\s*(\S.*)$"
    match = re.match(pattern, line)
    if not match:
        return None
    return next(g for g in match.groups()[:3] if g), match.group(4)


def _line_options(text: str, markers: str) -> Options:
    """The last run of one-a-line options that starts at the first marker."""
    runs: list[Options] = []
    current: Options = []
    closed = False  # after the last option: a blank or instruction line ends the run
    for line in text.split("\n"):
        found = _line_marker(line, markers)
        if found and found[0] == markers[0]:
            if current:
                runs.append(current)
            current, closed = [found], False
        elif found and current and markers.index(found[0]) == markers.index(current[-1][0]) + 1:
            current.append(found)
            closed = False
        elif current and not closed:
            if _LINE_END.match(line):
                closed = True
            elif any(c.isalnum() for c in line):
                current[-1] = (current[-1][0], current[-1][1] + " " + line)
    if current:
        runs.append(current)
    return [(m, _clean(t)) for m, t in runs[-1]] if runs else []


def _inline_options(line: str, markers: str) -> Options:
    """The longest run of options written on one line (the later of equal runs)."""
    pattern = rf"(?:(?<=[\s(（:：])|^)(?:\(([{markers}])\)|([{markers}]){_SEP})\s+|(?<=[。？?])\s*([{markers}])\s+"
    found = [(m.start(), m.end(), next(g for g in m.groups() if g)) for m in re.finditer(pattern, line)]
    best: list[tuple[int, int, str]] = []
    for start, item in enumerate(found):
        if item[2] != markers[0]:
            continue
        run = [item]
        for later in found[start + 1:]:
            if later[0] >= run[-1][1] and markers.index(later[2]) == markers.index(run[-1][2]) + 1:
                run.append(later)
        if len(run) >= len(best):
            best = run
    if len(best) < 2:
        return []
    options = []
    for (_, end, marker), following in zip(best, best[1:] + [None]):
        if following is not None:
            text = line[end:following[0]]
        else:
            text = line[end:]
            stop = _INLINE_END.search(text)
            text = text[:stop.start()] if stop else text
        options.append((marker, _clean(text)))
    return options


def lettered_options(text: str, markers: str) -> Options:
    """``[(marker, option), ...]`` of the options lettered (or numbered) with ``markers``."""
    options = _line_options(text, markers)
    if len(options) >= 2:
        return options
    if markers.isdigit():
        return []  # "Player 1 Hole", "(1,[8, 4]) -> 7": numbers inline are rarely options
    runs = [_inline_options(line, markers) for line in text.split("\n")]
    return max(reversed(runs), key=len, default=[])


def listed_options(text: str) -> list[str]:
    """The items of the last ``Choices: x, y`` or ``options: [x, y]`` in ``text``."""
    found = _LIST.findall(text)
    if not found:
        return []
    items = found[-1].strip().strip("[]").rstrip(".")
    return [_clean(item) for item in items.split(",") if _clean(item)]


def answer_marker(answer: str) -> str | None:
    """The marker set of a one-letter (or one-digit) answer, else ``None``."""
    if len(answer) == 1:
        return next((markers for markers in MARKER_SETS if answer in markers), None)
    return None


def multiple_choice(text: str, answer: str) -> Union[tuple[list[str], str], str]:
    """``(candidates, target)`` of a prompt whose options are in its text, or why not.

    ``answer`` is the option's letter or number (``B``) or its text; ``target`` is
    always the option's text. Options written twice count once.
    """
    markers = answer_marker(answer)
    if markers is not None:
        options = lettered_options(text, markers)
        by_marker = dict(options)
        if answer not in by_marker:
            return "no lettered options with the answer in the text" if not options else "the answer is not an option"
        target = by_marker[answer]
        candidates = [option for _, option in options]
    else:
        candidates = listed_options(text)
        target = next((c for c in candidates if c.casefold() == answer.casefold()), "")
        if not target:
            return "no options with the answer in the text" if not candidates else "the answer is not an option"
    candidates = list(dict.fromkeys(c for c in candidates if c))
    if len(candidates) < 2 or not target:
        return "fewer than two distinct options"
    return candidates, target


def share_parsed(results: Sequence[Union[tuple[list[str], str], str]]) -> float:
    """The share of :func:`multiple_choice` results that are options, not reasons."""
    return sum(not isinstance(r, str) for r in results) / max(len(results), 1)
