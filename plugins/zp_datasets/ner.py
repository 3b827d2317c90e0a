"""Named-entity data as the paper's Table 16 asks: one query per entity type.

Each sentence becomes one example per entity type: ``X1`` the sentence, ``X2``
the entity type's name, and the target the entities of that type joined by
``", "`` (first occurrence order, no repeats), or ``"blank"`` when there is none.
"""

from __future__ import annotations

import re
from typing import Iterable, Iterator, Mapping, Sequence

from zp_evolve.tasks import Example

from zp_datasets.rows import RowChecker

BLANK = "blank"
ENTITY_SEPARATOR = ", "


def ner_queries(
    text: str,
    entities: Sequence[tuple[str, str]],
    type_names: Mapping[str, str],
    rows: RowChecker,
    source: str,
) -> list[Example]:
    """The per-type queries of one sentence; ``entities`` are ``(type, surface)`` pairs."""
    out = []
    for code, name in type_names.items():
        found = list(dict.fromkeys(surface for kind, surface in entities if kind == code and surface.strip()))
        target = ENTITY_SEPARATOR.join(found) if found else BLANK
        example = rows.example({"X1": text, "X2": name}, target, source)
        if example is not None:
            out.append(example)
    return out


def bmes_sentences(lines: Iterable[str]) -> Iterator[tuple[int, list[str], list[str]]]:
    """Sentences of a character-per-line BMES file (``char TAG``, blank line between
    sentences); yields the first line number, the characters and the tags."""
    chars: list[str] = []
    tags: list[str] = []
    start = 0
    for number, line in enumerate(lines, 1):
        line = line.rstrip("\r\n")
        if not line.strip():
            if chars:
                yield start, chars, tags
            chars, tags = [], []
            continue
        parts = line.split()
        if not chars:
            start = number
        if len(parts) == 1:
            chars.append(parts[0])
            tags.append("")  # reported by the caller as a bad row
        else:
            chars.append(parts[0])
            tags.append(parts[-1])
    if chars:
        yield start, chars, tags


def bmes_spans(chars: Sequence[str], tags: Sequence[str]) -> list[tuple[str, str]]:
    """``(type, text)`` entities from BMES tags (``B-PER``, ``M-PER``, ``E-PER``, ``S-PER``, ``O``).

    Tolerant of the slips real files have: an ``M``/``E`` without a ``B`` starts an entity.
    """
    spans: list[tuple[str, str]] = []
    current_type, current = "", ""
    for char, tag in zip(chars, tags):
        prefix, _, kind = tag.partition("-")
        if prefix == "S":
            if current:
                spans.append((current_type, current))
            spans.append((kind, char))
            current_type, current = "", ""
        elif prefix == "B" or (prefix in ("M", "E", "I") and kind != current_type):
            if current:
                spans.append((current_type, current))
            current_type, current = kind, char
            if prefix == "E":
                spans.append((current_type, current))
                current_type, current = "", ""
        elif prefix in ("M", "I"):
            current += char
        elif prefix == "E":
            spans.append((current_type, current + char))
            current_type, current = "", ""
        else:
            if current:
                spans.append((current_type, current))
            current_type, current = "", ""
    if current:
        spans.append((current_type, current))
    return spans


_WORD_TAG = re.compile(r"^(.+)/([A-Za-z]+)$")
_SENTENCE_END = re.compile(r"(?<=[。！？])")
#: People's Daily tags that mark names: person (surname and given name are two
#: ``nr`` words, merged; see :func:`_entities`), place, organisation.
PEOPLES_DAILY_TYPES = {"nr": "PER", "ns": "LOC", "nt": "ORG"}


def peoples_daily_sentences(line: str) -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """Sentences of one tagged paragraph (``word/tag`` separated by spaces), with their entities."""
    words: list[tuple[str, str]] = []
    for token in line.split():
        match = _WORD_TAG.match(token)
        words.append((match.group(1), match.group(2)) if match else (token, ""))
    sentence: list[tuple[str, str]] = []
    for word, tag in words:
        sentence.append((word, tag))
        if word in ("。", "！", "？"):
            yield _entities(sentence)
            sentence = []
    if sentence:
        yield _entities(sentence)


def _entities(words: Sequence[tuple[str, str]]) -> tuple[str, list[tuple[str, str]]]:
    text = "".join(word for word, _ in words)
    entities: list[tuple[str, str]] = []
    previous = ""
    # A Chinese name is a surname word (1-2 characters) and a given-name word; lists of
    # names follow each other without separators ("江/nr 泽民/nr 李/nr 鹏/nr"), so a
    # person takes at most one more word, and only after a surname-sized one.
    open_surname = False
    for word, tag in words:
        kind = PEOPLES_DAILY_TYPES.get(tag, "")
        if kind == "PER" and previous == "PER" and open_surname:
            entities[-1] = (kind, entities[-1][1] + word)
            open_surname = False
        elif kind:
            entities.append((kind, word))
            open_surname = kind == "PER" and len(word) <= 2
        previous = kind
    return text, entities


_ENTITY = re.compile(r"\s*(.*?) - (PERSON|ORGANIZATION|LOCATION)\s*(?:,|$)")


def parse_entity_list(ideal: str) -> list[tuple[str, str]] | None:
    """``"[Bank - ORGANIZATION, Santa Clara - LOCATION]"`` -> pairs; ``None`` if unparseable."""
    ideal = ideal.strip()
    if ideal.lower().startswith("no entities"):
        return []
    if not (ideal.startswith("[") and ideal.endswith("]")):
        return None
    inner = ideal[1:-1].strip()
    pairs = [(kind, name.strip()) for name, kind in _ENTITY.findall(inner)]
    rebuilt = ", ".join(f"{name} - {kind}" for kind, name in pairs)
    return pairs if rebuilt == inner else None
