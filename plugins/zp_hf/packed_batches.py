"""Host-side arrays of one planned batch (:mod:`zp_hf.packing`), and its one copy to the device.

A batch's integers (token ids, segment ids, positions, branch ids, read-out positions,
picks, soft-prompt slots) are built with numpy from the units' token runs, concatenated
into one buffer and sent to the device in one pinned, asynchronous copy; the scorer
works on views of that buffer. Python touches units, never single tokens.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from zp_hf.packing import Plan, Segment, Unit


class _Runs:
    """Token runs bound for one flat (rows x width) array: where each starts and its values,
    written by numpy at once (no Python loop over tokens)."""

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.values: list[Sequence[int]] = []

    def add(self, start: int, values: Sequence[int]) -> None:
        self.starts.append(start)
        self.values.append(values)

    def layout(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(destination, offset within its run, run index)`` of every token, in order."""
        lengths = np.fromiter(map(len, self.values), dtype=np.int64, count=len(self.values))
        total = int(lengths.sum())
        within = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        dest = np.repeat(np.asarray(self.starts, dtype=np.int64), lengths) + within
        return dest, within, np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)

    def arrays(self, size: int, pad_id: int, labels: Sequence[Sequence[int]]) -> list[np.ndarray]:
        """Token ids (``pad_id`` elsewhere), each token's offset within its run (0 elsewhere),
        then one array per ``labels`` list: each run's label on its tokens (-1 elsewhere)."""
        ids = np.full(size, pad_id, dtype=np.int64)
        offset = np.zeros(size, dtype=np.int64)
        out = [np.full(size, -1, dtype=np.int64) for _ in labels]
        if self.values:
            dest, within, run = self.layout()
            ids[dest] = np.fromiter(itertools.chain.from_iterable(self.values), dtype=np.int64, count=dest.size)
            offset[dest] = within
            for array, values in zip(out, labels):
                array[dest] = np.asarray(values, dtype=np.int64)[run]
        return [ids, offset, *out]


@dataclass
class HostBatch:
    """Integer arrays of one batch (flat numpy arrays with their shapes) and the soft-prompt tasks."""

    arrays: dict[str, np.ndarray]
    shapes: dict[str, tuple[int, ...]]
    tasks: list[str]  # soft-prompt source rows: task i's vectors are rows i*n .. i*n+n-1
    real_tokens: int = 0

    def add(self, name: str, values: np.ndarray | list[int], shape: tuple[int, ...] | None = None) -> None:
        array = np.asarray(values, dtype=np.int64).reshape(-1)
        self.arrays[name] = array
        self.shapes[name] = shape if shape is not None else (array.size,)


class _Readout:
    """Read-out positions, picks and soft-prompt slots, gathered unit by unit."""

    def __init__(self) -> None:
        self.positions: list[int] = []
        self.rows: list[int] = []
        self.tokens: list[int] = []
        self.slots: list[int] = []
        self.soft_pos: list[int] = []
        self.soft_src: list[int] = []
        self.tasks: dict[str, int] = {}

    def unit(self, unit: Unit, flat_positions: Sequence[int], start: int) -> None:
        base = len(self.positions)
        self.positions.extend(flat_positions)
        for index, target, slot in unit.picks:
            self.rows.append(base + index)
            self.tokens.append(target)
            self.slots.append(slot)
        if unit.soft:
            source = self.tasks.setdefault(unit.task, len(self.tasks)) * unit.soft
            self.soft_pos.extend(range(start, start + unit.soft))
            self.soft_src.extend(range(source, source + unit.soft))

    def into(self, batch: HostBatch) -> HostBatch:
        batch.tasks = list(self.tasks)
        for name, values in (("readout", self.positions), ("pick_row", self.rows), ("pick_token", self.tokens),
                             ("pick_slot", self.slots), ("soft_pos", self.soft_pos), ("soft_src", self.soft_src)):
            batch.add(name, values)
        return batch


def build_causal_batch(plan: Plan, units: Sequence[Unit], pad_id: int, *, positions: bool, branches: bool) -> HostBatch:
    """``ids`` and ``seg`` (rows, width), optionally ``pos`` and ``branch``, the read-out
    positions (flat), the picks and the soft-prompt slots of a causal batch."""
    rows, width = plan.shape_rows, plan.width
    runs, readout = _Runs(), _Readout()
    segments: list[int] = []
    trees: list[tuple[int, Segment]] = []  # branched units: explicit positions and branch ids
    real = 0
    for r, row in enumerate(plan.rows):
        start = r * width
        for s, u in enumerate(row):
            unit = units[u]
            runs.add(start, unit.main.tokens)
            segments.append(s)
            if unit.main.branches:
                trees.append((start, unit.main))
            readout.unit(unit, [start + o for o in unit.main.readout], start)
            start += unit.length
            real += unit.length
    ids, pos, seg = runs.arrays(rows * width, pad_id, [segments])
    branch = np.zeros(rows * width, dtype=np.int64)
    for start, main in trees:
        pos[start : start + len(main.tokens)] = main.positions
        branch[start : start + len(main.tokens)] = main.branches
    batch = HostBatch({}, {}, [], real)
    batch.add("ids", ids, (rows, width))
    batch.add("seg", seg, (rows, width))
    if positions:
        batch.add("pos", pos, (rows, width))
    if branches:
        batch.add("branch", branch, (rows, width))
    return readout.into(batch)


def build_seq2seq_batch(plan: Plan, units: Sequence[Unit], pad_id: int) -> HostBatch:
    """Encoder ``ids``/``seg`` (rows, width); decoder ``dec_ids``, ``dec_seg`` (own decoder
    segment) and ``dec_src`` (the encoder segment it reads) of (rows, decoder width); the
    read-out positions (flat over the decoder), picks and soft-prompt slots."""
    rows, width, dwidth = plan.shape_rows, plan.width, plan.decoder_width
    encoder, decoder, readout = _Runs(), _Runs(), _Readout()
    segments: list[int] = []
    own: list[int] = []  # per decoder run: its own segment id in the decoder row
    sources: list[int] = []  # per decoder run: the encoder segment it reads
    real = 0
    for r, row in enumerate(plan.rows):
        start, dstart, dsegs = r * width, r * dwidth, 0
        for s, u in enumerate(row):
            unit = units[u]
            encoder.add(start, unit.main.tokens)
            segments.append(s)
            offsets = []
            for segment in unit.decoder:
                decoder.add(dstart, segment.tokens)
                own.append(dsegs)
                sources.append(s)
                offsets.extend(dstart + o for o in segment.readout)
                dstart += len(segment.tokens)
                dsegs += 1
            readout.unit(unit, offsets, start)
            start += unit.length
            real += unit.length + unit.decoder_length
    ids, _, seg = encoder.arrays(rows * width, pad_id, [segments])
    dec_ids, _, dec_seg, dec_src = decoder.arrays(rows * dwidth, pad_id, [own, sources])
    batch = HostBatch({}, {}, [], real)
    batch.add("ids", ids, (rows, width))
    batch.add("seg", seg, (rows, width))
    batch.add("dec_ids", dec_ids, (rows, dwidth))
    batch.add("dec_seg", dec_seg, (rows, dwidth))
    batch.add("dec_src", dec_src, (rows, dwidth))
    return readout.into(batch)


def to_device(batch: HostBatch, device: torch.device) -> dict[str, torch.Tensor]:
    """Every array of ``batch`` on ``device`` after one host-to-device copy (from pinned
    memory, asynchronous, on CUDA), as views of that one buffer."""
    names = list(batch.arrays)
    host = torch.from_numpy(np.concatenate([batch.arrays[name] for name in names]))
    buffer = host.pin_memory().to(device, non_blocking=True) if device.type == "cuda" else host
    out: dict[str, torch.Tensor] = {}
    cursor = 0
    for name in names:
        count = batch.arrays[name].size
        out[name] = buffer.narrow(0, cursor, count).view(batch.shapes[name])
        cursor += count
    return out
