"""Token-level batches: supervised items and unlabelled text, for T5 or causal LMs.

Text formats come from :mod:`zp_hf.formatting`, the functions the backends score with:

* seq2seq: the encoder reads ``prefix <extra_id_0> suffix``; the decoder's target is
  ``<extra_id_0> answer </s>``. The auxiliary MLM is T5 span corruption.
* causal: the model reads the backends' context (the prefix, or for a cloze prompt the
  whole prompt with a visible blank and an answer cue) and is trained on the answer
  tokens and the end-of-sequence token only (``loss.answer_only``, the default; off, on
  every token of the context too). The auxiliary MLM is next-token prediction.

The soft prompt E is not part of the tokens: :class:`zp_trainer.model.Generalist`
prepends it to the embeddings, which is why every batch carries its task names.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Literal, Sequence

from zp_evolve.errors import ModelError
from zp_trainer.items import TrainItem
from zp_trainer.span_corruption import corrupt

Kind = Literal["seq2seq", "causal"]
IGNORE = -100


@dataclass
class Batch:
    """Padded tensors plus the task name of each row (for E); ``tasks`` is empty for MLM rows."""

    input_ids: Any
    attention_mask: Any
    labels: Any
    tasks: list[str]

    @property
    def size(self) -> int:
        return int(self.input_ids.shape[0])


def fit_middle(ids: list[int], limit: int) -> list[int]:
    """Cut tokens out of the middle so the start (V, D) and the end (the blank, EOS) survive."""
    if len(ids) <= limit:
        return ids
    head = limit // 2
    return ids[:head] + ids[len(ids) - (limit - head) :]


class BatchBuilder:
    """Turns items and texts into padded batches for one tokenizer and model kind."""

    def __init__(
        self, tokenizer: Any, kind: Kind, *, max_source_tokens: int, max_target_tokens: int, answer_only: bool = True
    ) -> None:
        self.tokenizer = tokenizer
        self.answer_only = answer_only
        self.kind = kind
        self.max_source = max_source_tokens
        self.max_target = max_target_tokens
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        if self.pad_id is None:
            raise ModelError("the tokenizer has neither a pad nor an end-of-sequence token")
        self._sentinels: list[int] | None = None

    def _ids(self, text: str, *, special: bool = False) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=special)["input_ids"])

    @property
    def eos(self) -> list[int]:
        eos = self.tokenizer.eos_token_id
        return [eos] if eos is not None else []

    @property
    def sentinels(self) -> list[int]:
        """``<extra_id_0>``, ``<extra_id_1>``... as ids (T5 tokenizers only)."""
        if self._sentinels is None:
            ids = []
            unk = self.tokenizer.unk_token_id
            for index in range(1000):
                token_id = self.tokenizer.convert_tokens_to_ids(f"<extra_id_{index}>")
                if token_id is None or token_id == unk:
                    break
                ids.append(token_id)
            if len(ids) < 2:
                raise ModelError("span corruption needs a T5 tokenizer with sentinel tokens <extra_id_0>, <extra_id_1>, ...")
            self._sentinels = ids
        return self._sentinels

    # -- supervised -------------------------------------------------------------------
    def supervised(self, items: Sequence[TrainItem]) -> Batch:
        return self._pad(self.supervised_rows(items), [item.task for item in items])

    def supervised_rows(self, items: Sequence[TrainItem]) -> list[tuple[list[int], list[int]]]:
        """``(input ids, labels)`` per item, unpadded (labels are IGNORE where no loss is taken)."""
        return [self._supervised_row(item) for item in items]

    @property
    def blank(self) -> tuple[str, list[int]]:
        """What replaces the blank in a seq2seq source, and the ids the target starts with
        (the backends' choice: T5's first sentinel, else the mask token, else ``___``)."""
        from zp_hf.formatting import T5_SENTINEL, VISIBLE_BLANK

        vocab = self.tokenizer.get_vocab()
        if T5_SENTINEL in vocab:
            return T5_SENTINEL, [vocab[T5_SENTINEL]]
        return self.tokenizer.mask_token or VISIBLE_BLANK, []

    def _supervised_row(self, item: TrainItem) -> tuple[list[int], list[int]]:
        from zp_hf.formatting import causal_answer, causal_context, seq2seq_answer, seq2seq_source

        if self.kind == "seq2seq":
            blank, start = self.blank
            # The backends do not truncate encoder text (inputs are cut by max_input_chars);
            # the token cap only guards memory, keeping the start (V, D) and the end.
            source_ids = fit_middle(self._ids(seq2seq_source(item.prompt, blank), special=True), self.max_source)
            answer_ids = self._ids(seq2seq_answer(item.answer, item.language))
            target_ids = (start + answer_ids)[: self.max_target - 1] + self.eos
            return source_ids, target_ids
        context = causal_context(item.prompt, item.language)
        answer_ids = (self._ids(causal_answer(context, item.answer, item.language)) + self.eos)[: self.max_target]
        # Like the causal backend, keep the end of an over-long context (it holds the blank).
        context_ids = self._ids(context, special=True)[-max(self.max_source - len(answer_ids), 1) :]
        # answer_only off: the prompt's tokens are targets too (the first has nothing to predict it).
        context_labels = [IGNORE] * len(context_ids) if self.answer_only else [IGNORE, *context_ids[1:]]
        return context_ids + answer_ids, context_labels + answer_ids

    # -- unlabelled text --------------------------------------------------------------
    def unlabelled(
        self, texts: Sequence[str], rng: random.Random, *, window: int, noise_density: float, mean_span_length: float
    ) -> Batch:
        rows = self.unlabelled_rows(texts, rng, window=window, noise_density=noise_density, mean_span_length=mean_span_length)
        return self._pad(rows, [])

    def unlabelled_rows(
        self, texts: Sequence[str], rng: random.Random, *, window: int, noise_density: float, mean_span_length: float
    ) -> list[tuple[list[int], list[int]]]:
        """``(inputs, targets)`` of the auxiliary loss per text, unpadded."""
        rows = []
        for text in texts:
            ids = self._ids(text)
            if len(ids) > window:  # a random window of long texts
                start = rng.randrange(len(ids) - window + 1)
                ids = ids[start : start + window]
            if self.kind == "seq2seq":
                inputs, targets = corrupt(
                    ids, self.sentinels, noise_density=noise_density, mean_span_length=mean_span_length, rng=rng
                )
                rows.append((inputs + self.eos, targets + self.eos))
            else:
                ids = ids + self.eos
                rows.append((ids, list(ids)))
        return rows

    # -- padding ----------------------------------------------------------------------
    def _pad(self, rows: Sequence[tuple[list[int], list[int]]], tasks: list[str]) -> Batch:
        import torch

        if self.kind == "seq2seq":
            width = max(len(source) for source, _ in rows)
            label_width = max(len(target) for _, target in rows)
            input_ids = [source + [self.pad_id] * (width - len(source)) for source, _ in rows]
            mask = [[1] * len(source) + [0] * (width - len(source)) for source, _ in rows]
            labels = [target + [IGNORE] * (label_width - len(target)) for _, target in rows]
        else:
            width = max(len(ids) for ids, _ in rows)
            input_ids = [ids + [self.pad_id] * (width - len(ids)) for ids, _ in rows]
            mask = [[1] * len(ids) + [0] * (width - len(ids)) for ids, _ in rows]
            labels = [target + [IGNORE] * (width - len(target)) for _, target in rows]
        return Batch(
            input_ids=torch.tensor(input_ids, dtype=torch.long),
            attention_mask=torch.tensor(mask, dtype=torch.long),
            labels=torch.tensor(labels, dtype=torch.long),
            tasks=tasks,
        )
