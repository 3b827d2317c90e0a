"""Packed, padding-free batches for the packed scorers (:mod:`zp_hf.packed`).

Every scored item becomes a *unit*:

* causal LM: one sequence, its soft-prompt slots and context (the *trunk*), then, for
  each answer longer than one token, a *branch* holding that answer's tokens but the
  last. Branch tokens see the trunk and their own branch only, with positions that
  continue after the trunk, so one forward scores every token of every answer (a
  tree, as in speculative decoding) without a KV cache;
* T5: the encoder input (soft-prompt slots and context), plus decoder sequences: one
  ``[start, sentinel]`` shared by every answer's first token, and one
  ``[start, sentinel] + answer[:-1]`` per longer answer (T5's relative position bias
  reads index differences, so decoder sequences must stay contiguous: no tree).

Units are packed into rows of a fixed width (``packed`` layout: several short units
share a row, best fit decreasing; attention never crosses units, by a mask built on
the device from per-token segment ids) or one per row (``padded`` layout, length-sorted,
right padding). Rows go into batches of a token budget. Widths come from a few buckets
and row counts are rounded up to powers of two, so the shapes the model sees repeat
from call to call: CUDA graphs are captured once per shape and ``torch.compile``
compiles once per width.

Everything here is host-side list work; :mod:`zp_hf.packed_batches` turns a planned
batch into arrays and moves it to the device in one copy.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Callable, Sequence

from zp_evolve.errors import ModelError
from zp_hf.batching import TokenItem
from zp_hf.settings import Layout  # noqa: F401  (defined with the settings that use it)

#: (index into the unit's read-out positions, target token id, output slot)
Pick = tuple[int, int, int]


@dataclass
class Segment:
    """Tokens laid out contiguously in a row, and the offsets whose outputs are read."""

    tokens: list[int]
    positions: list[int] = field(default_factory=list)  # position ids (causal); empty: 0, 1, 2...
    branches: list[int] = field(default_factory=list)  # 0: trunk, b > 0: answer branch b; empty: all 0
    readout: list[int] = field(default_factory=list)


@dataclass
class Unit:
    """One item in packed form: its main segment (the causal sequence, or T5's encoder
    input), T5's decoder segments, and which output scores which answer token."""

    item: int
    task: str
    soft: int  # soft-prompt slots at the start of ``main`` (their token ids are placeholders)
    main: Segment
    decoder: list[Segment]
    picks: list[Pick]

    @property
    def length(self) -> int:
        return len(self.main.tokens)

    @property
    def decoder_length(self) -> int:
        return sum(len(s.tokens) for s in self.decoder)

    @property
    def branched(self) -> bool:
        return any(self.main.branches)


def causal_units(items: Sequence[TokenItem], soft_slots: Callable[[str], int], pad_id: int) -> tuple[list[Unit], list[int]]:
    """The units of a causal LM's items and, per item, its first output slot (slots
    number every (item, candidate) in order)."""
    units: list[Unit] = []
    first_slots: list[int] = []
    slot = 0
    for index, item in enumerate(items):
        soft = soft_slots(item.task)
        trunk = soft + len(item.context)
        if trunk == 0:
            raise ModelError(f"an item of task {item.task!r} has an empty context; nothing to score after")
        tokens = [pad_id] * soft + item.context if soft else item.context
        readout = [trunk - 1]
        picks: list[Pick] = [(0, cand[0], slot + c) for c, cand in enumerate(item.candidates)]
        positions: list[int] = []  # empty: 0, 1, 2... (a unit without branches)
        branches: list[int] = []  # empty: all trunk
        branch = 0
        for c, cand in enumerate(item.candidates):
            if len(cand) < 2:
                continue
            if not branch:
                tokens, positions, branches = list(tokens), list(range(trunk)), [0] * trunk
            branch += 1
            # Branch token j (answer token j) at position trunk + j predicts answer token j + 1.
            for j, token in enumerate(cand[:-1]):
                tokens.append(token)
                positions.append(trunk + j)
                branches.append(branch)
                readout.append(len(tokens) - 1)
                picks.append((len(readout) - 1, cand[j + 1], slot + c))
        first_slots.append(slot)
        slot += len(item.candidates)
        units.append(Unit(index, item.task, soft, Segment(tokens, positions, branches, readout), [], picks))
    return units, first_slots


def seq2seq_units(
    items: Sequence[TokenItem], soft_slots: Callable[[str], int], pad_id: int, prefix: Sequence[int]
) -> tuple[list[Unit], list[int]]:
    """The units of an encoder-decoder's items (``prefix``: decoder ids before the answer)."""
    units: list[Unit] = []
    first_slots: list[int] = []
    slot = 0
    last = len(prefix) - 1  # the decoder position that predicts the first answer token
    for index, item in enumerate(items):
        soft = soft_slots(item.task)
        if soft + len(item.context) == 0:
            raise ModelError(f"an item of task {item.task!r} has an empty encoder input")
        main = Segment([pad_id] * soft + list(item.context))
        decoder = [Segment(list(prefix), readout=[last])]
        picks: list[Pick] = [(0, cand[0], slot + c) for c, cand in enumerate(item.candidates)]
        readouts = 1
        for c, cand in enumerate(item.candidates):
            if len(cand) < 2:
                continue
            offsets = [last + j for j in range(1, len(cand))]
            decoder.append(Segment(list(prefix) + list(cand[:-1]), readout=offsets))
            picks.extend((readouts + j - 1, cand[j], slot + c) for j in range(1, len(cand)))
            readouts += len(offsets)
        first_slots.append(slot)
        slot += len(item.candidates)
        units.append(Unit(index, item.task, soft, main, decoder, picks))
    return units, first_slots


# -- planning -------------------------------------------------------------------


def next_pow2(n: int) -> int:
    return 1 << max(n - 1, 0).bit_length()


def padded_width(n: int) -> int:
    """Row width for a unit of ``n`` tokens in the padded layout: multiples of 16 up to
    128, of 64 up to 512, then of 256 (few shapes, little padding)."""
    step = 16 if n <= 128 else 64 if n <= 512 else 256
    return max(step, -(-n // step) * step)


def packed_width(n: int, pack_length: int) -> int:
    """Row width for a unit of ``n`` tokens in the packed layout: ``pack_length``, or the
    next power of two for longer units."""
    return max(pack_length, next_pow2(n))


def pack_rows(lengths: Sequence[int], capacity: int) -> list[list[int]]:
    """Indices packed into rows of ``capacity`` tokens, best fit decreasing (deterministic)."""
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    rows: list[list[int]] = []
    free: list[tuple[int, int]] = []  # (free tokens, row), sorted
    for index in order:
        n = lengths[index]
        if n > capacity:
            raise ValueError(f"a unit of {n} tokens does not fit a row of {capacity}")
        at = bisect.bisect_left(free, (n, -1))
        if at < len(free):
            room, row = free.pop(at)
            rows[row].append(index)
        else:
            room, row = capacity, len(rows)
            rows.append([index])
        if room - n > 0:
            bisect.insort(free, (room - n, row))
    return rows


@dataclass
class Plan:
    """One batch: its rows of unit indices, padded to ``shape_rows`` rows of ``width``."""

    width: int
    rows: list[list[int]]
    shape_rows: int
    decoder_width: int = 0


def plan_batches(
    units: Sequence[Unit],
    *,
    layout: Layout,
    pack_length: int,
    max_batch_tokens: int,
    bucket_rows: bool,
    min_rows: int = 1,
) -> list[Plan]:
    """Batches of at most ``max_batch_tokens`` row tokens (at least one row each).

    With ``bucket_rows`` the last batch of a width is padded up to a power of two rows
    (at least ``min_rows``), so only a few shapes occur.
    """
    by_width: dict[int, list[int]] = {}
    for index, unit in enumerate(units):
        width = packed_width(unit.length, pack_length) if layout == "packed" else padded_width(unit.length)
        by_width.setdefault(width, []).append(index)
    plans: list[Plan] = []
    for width in sorted(by_width):
        members = by_width[width]
        if layout == "packed":
            rows = [[members[i] for i in row] for row in pack_rows([units[m].length for m in members], width)]
        else:
            rows = [[m] for m in sorted(members, key=lambda m: (units[m].length, m))]
        per_batch = max(1, max_batch_tokens // width)
        for begin in range(0, len(rows), per_batch):
            chunk = rows[begin : begin + per_batch]
            shape = len(chunk)
            if bucket_rows and shape < per_batch:
                shape = max(min_rows, min(next_pow2(shape), per_batch))
            decoder = max((sum(units[u].decoder_length for u in row) for row in chunk), default=0)
            plans.append(Plan(width, chunk, max(shape, len(chunk)), next_pow2(max(decoder, 8)) if decoder else 0))
    return plans
