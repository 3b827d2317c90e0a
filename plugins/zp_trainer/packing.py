"""Sequence packing for causal LMs: several short examples share one row, none sees another.

Prompted examples are short and vary in length (a 20-token question, a 200-token review),
so padding every row of a batch to its longest wastes most of the compute. Packing puts
the examples of a micro-batch into rows of at most ``capacity`` tokens (best-fit
decreasing) and restarts the position ids at 0 for each example. transformers reads
restarting position ids as packed sequences and builds a block-diagonal causal mask
(``masking_utils.find_packed_sequence_indices``), so each example attends to itself
only, with the positions it would have alone: the loss equals the unpacked one
(a test checks it).

Each supervised example keeps its soft prompt E in front: ``prompt_length`` slots are
reserved before its tokens and filled with its task's vectors by
:meth:`zp_trainer.model.Generalist.packed_losses`. Padding at the end of a row is one more
"sequence" (positions 0, 1, ...) whose labels are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from zp_evolve.errors import DataError
from zp_hf.packing import pack_rows
from zp_trainer.batches import IGNORE


@dataclass(frozen=True)
class PackItem:
    """One example: token ids, their labels, the task whose E goes in front (None: no E), and
    whether its loss is the auxiliary LM loss."""

    ids: list[int]
    labels: list[int]
    task: str | None
    mlm: bool = False


@dataclass
class PackedBatch:
    """Rows of packed examples (tensors of shape (rows, width)) and where each E goes."""

    input_ids: Any
    position_ids: Any
    labels: Any
    mlm: Any  # bool: the label belongs to an auxiliary-loss example
    prompt_slots: list[tuple[int, int, str]]  # (row, first position, task) of every E
    prompt_length: int
    items: int
    tokens: int  # real positions (E included), padding excluded

    @property
    def size(self) -> int:
        return self.items


def pack_bins(lengths: Sequence[int], capacity: int) -> list[list[int]]:
    """Indices of ``lengths`` grouped into bins of total length at most ``capacity``: the
    scorer's best-fit-decreasing packer (:func:`zp_hf.packing.pack_rows`), one packer for both."""
    too_long = [n for n in lengths if n > capacity]
    if too_long:
        raise DataError(f"an example of {max(too_long)} tokens does not fit pack_tokens={capacity}; raise pack_tokens")
    return pack_rows(lengths, capacity)


def pack(items: Sequence[PackItem], *, capacity: int, prompt_length: int, pad_id: int) -> PackedBatch:
    """Pack ``items`` into rows; examples with a task get ``prompt_length`` E slots in front."""
    import torch

    if not items:
        raise DataError("nothing to pack")
    lengths = [len(item.ids) + (prompt_length if item.task is not None else 0) for item in items]
    rows = pack_bins(lengths, capacity)
    width = max(sum(lengths[i] for i in row) for row in rows)
    input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    labels = torch.full((len(rows), width), IGNORE, dtype=torch.long)
    positions = torch.zeros((len(rows), width), dtype=torch.long)
    mlm = torch.zeros((len(rows), width), dtype=torch.bool)
    slots: list[tuple[int, int, str]] = []
    for row, members in enumerate(rows):
        cursor = 0
        for index in members:
            item = items[index]
            start = cursor
            if item.task is not None:
                slots.append((row, cursor, item.task))
                cursor += prompt_length
            end = cursor + len(item.ids)
            input_ids[row, cursor:end] = torch.tensor(item.ids, dtype=torch.long)
            labels[row, cursor:end] = torch.tensor(item.labels, dtype=torch.long)
            # Unpacked, the first token of a sequence is never a target; packed, the previous
            # example's last position would predict it.
            labels[row, start] = IGNORE
            positions[row, start:end] = torch.arange(end - start)
            mlm[row, start:end] = item.mlm
            cursor = end
        positions[row, cursor:] = torch.arange(width - cursor)  # the padding: a separate, ignored sequence
    return PackedBatch(
        input_ids=input_ids, position_ids=positions, labels=labels, mlm=mlm,
        prompt_slots=slots, prompt_length=prompt_length, items=len(items), tokens=sum(lengths),
    )  # fmt: skip
