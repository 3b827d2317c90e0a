"""The training loop: AdamW on L = lambda * L_sup + L_MLM (paper eq. 5).

Each optimiser step draws ``batch_size`` supervised items from the task mixture (in
``grad_accum`` micro-batches) and, when the MLM loss is on, ``mlm_batch_size``
unlabelled texts. With ``pack_tokens`` (causal LMs) a micro-batch's items and texts
are packed into shared rows and run in one forward (:mod:`zp_trainer.packing`); the
draws are the same either way. Every random choice comes from two seeded ``random.Random``
(mixture, data) and torch's generator (dropout), all saved in checkpoints, so a
resumed run continues exactly where the stopped one was.
"""

from __future__ import annotations

import json
import math
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from zp_evolve.rundir import read_jsonl
from zp_trainer import checkpoint as ckpt
from zp_trainer.batches import BatchBuilder
from zp_trainer.items import build_item
from zp_trainer.mixture import MixtureSampler, TrainingTask, as_random_state
from zp_trainer.model import Generalist
from zp_trainer.packing import PackItem, pack
from zp_trainer.schema import TrainSection

METRICS_FILE = "metrics.jsonl"


@dataclass
class _Window:
    """Loss sums since the last record."""

    steps: int = 0
    loss: float = 0.0
    sup: float = 0.0
    mlm: float = 0.0
    examples: int = 0
    tokens: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0

    def add(self, loss: float, sup: float, mlm: float, examples: int, tokens: int, seconds: float, cpu: float) -> None:
        self.steps += 1
        self.loss += loss
        self.sup += sup
        self.mlm += mlm
        self.examples += examples
        self.tokens += tokens
        self.seconds += seconds
        self.cpu_seconds += cpu


@dataclass
class TrainResult:
    step: int
    records: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    examples: int = 0
    tokens: int = 0


def lr_factor(step: int, *, steps: int, warmup: int, schedule: str) -> float:
    """Multiplier of the base learning rates at ``step`` (0-based)."""
    if warmup and step < warmup:
        return (step + 1) / warmup
    if schedule == "linear":
        return max(0.0, (steps - step) / max(1, steps - warmup))
    return 1.0


class Trainer:
    """Runs (or resumes) the optimisation of one :class:`Generalist`."""

    def __init__(
        self,
        config: TrainSection,
        generalist: Generalist,
        tasks: Sequence[TrainingTask],
        mlm_texts: Sequence[str],
        out_dir: Path,
        *,
        seed: int,
        training_info: dict[str, Any],
        progress: bool = True,
    ) -> None:
        import torch

        torch.manual_seed(seed)  # dropout; restore() replaces it with a checkpoint's state
        self.config = config
        self.generalist = generalist
        self.tasks = list(tasks)
        self.mlm_texts = list(mlm_texts)
        self.out_dir = Path(out_dir)
        self.checkpoints = self.out_dir / "checkpoints"
        self.training_info = training_info
        self.progress = progress
        # No tasks means pretraining: every step is MLM only, batch_size texts.
        self.sampler = (
            MixtureSampler(self.tasks, config.mixing.strategy, config.mixing.cap, seed, config.mixing.language_shares)
            if self.tasks
            else None
        )
        self.data_rng = random.Random(seed + 1)
        self.builder = BatchBuilder(
            generalist.tokenizer,
            generalist.kind,
            max_source_tokens=config.max_source_tokens,
            max_target_tokens=config.max_target_tokens,
            answer_only=getattr(config.loss, "answer_only", True),  # pretraining configs have none
        )
        optim = config.optim
        groups = generalist.parameter_groups(lr=optim.lr, soft_prompt_lr=optim.soft_prompt_lr, weight_decay=optim.weight_decay)
        self.optimizer = torch.optim.AdamW(groups, lr=optim.lr, betas=optim.betas, eps=optim.eps)
        self.base_lrs = [group["lr"] for group in self.optimizer.param_groups]
        self.step = 0
        self.tokens = 0  # real input positions (E included) run so far in this process: the compute done
        self.use_mlm = config.loss.mlm and bool(self.mlm_texts)
        if not self.tasks and not self.use_mlm:
            from zp_evolve.errors import DataError

            raise DataError("nothing to train on: no training tasks and no unlabelled texts for the MLM loss")
        self.mlm_batch = config.loss.mlm_batch_size or max(1, optim.batch_size // 4)
        self.pack_tokens = getattr(config, "pack_tokens", None)  # pretraining configs have none
        if self.pack_tokens and generalist.kind != "causal":
            from zp_evolve.errors import ConfigError, ConfigIssue

            raise ConfigError([ConfigIssue("pack_tokens", "packing works with causal LMs only; remove pack_tokens for seq2seq models")])
        if not self.builder.answer_only and generalist.kind != "causal":
            from zp_evolve.errors import ConfigError, ConfigIssue

            why = "a seq2seq target is the answer alone; answer_only: false is for causal LMs"
            raise ConfigError([ConfigIssue("loss.answer_only", why)])

    # -- state ------------------------------------------------------------------------
    def save(self, folder: Path) -> Path:
        """A model checkpoint folder plus everything resuming needs; COMPLETE is written last."""
        folder.mkdir(parents=True, exist_ok=True)
        self.generalist.save(folder)
        ckpt.write_json(folder / ckpt.TRAINING_FILE, {**self.training_info, "step": self.step})
        ckpt.save_optimizer(folder, self.optimizer)
        ckpt.save_rng(folder)
        sampler = self.sampler.state_dict() if self.sampler is not None else None
        state = {"step": self.step, "sampler": sampler, "data_rng": self.data_rng.getstate()}
        ckpt.write_json(folder / "trainer_state.json", state)
        (folder / ckpt.COMPLETE).write_text(str(self.step), encoding="utf-8")
        return folder

    def restore(self, folder: Path) -> None:
        state = json.loads((folder / "trainer_state.json").read_text(encoding="utf-8"))
        self.step = int(state["step"])
        if self.sampler is not None:
            self.sampler.load_state_dict(state["sampler"])
        self.data_rng.setstate(as_random_state(state["data_rng"]))
        ckpt.load_optimizer(folder, self.optimizer)
        ckpt.load_rng(folder)

    # -- one step ---------------------------------------------------------------------
    def _items(self, size: int) -> list[Any]:
        """``size`` supervised items from the mixture (a task drawn, then D drawn per item)."""
        config = self.config
        sampler: MixtureSampler = self.sampler  # type: ignore[assignment]  # only called with tasks
        return [
            build_item(
                task,
                example,
                self.data_rng,
                verbalizers=config.prompt.verbalizers,
                description=config.prompt.description,
                max_input_chars=config.max_input_chars,
            )
            for task, example in sampler.draw_many(size)
        ]

    def _texts(self, size: int) -> tuple[list[str], dict[str, Any]]:
        """``size`` unlabelled texts, and the options that cut and corrupt them."""
        loss = self.config.loss
        texts = [self.data_rng.choice(self.mlm_texts) for _ in range(size)]
        return texts, {"window": loss.mlm_tokens, "noise_density": loss.noise_density, "mean_span_length": loss.mean_span_length}

    def _micro_step(self, size: int, mlm_size: int) -> tuple[Any, float, float]:
        if self.pack_tokens:
            return self._packed_micro_step(size, mlm_size)
        config = self.config
        total: Any = 0.0
        sup_value = 0.0
        if self.sampler is not None:
            batch = self.builder.supervised(self._items(size))
            self.tokens += int(batch.attention_mask.sum()) + batch.size * self.generalist.prompt_length
            sup = self.generalist.loss(batch)
            total = config.loss.sup_weight * sup
            sup_value = float(sup.detach())
        else:
            mlm_size = size
        mlm_value = 0.0
        if self.use_mlm and mlm_size:
            texts, options = self._texts(mlm_size)
            batch = self.builder.unlabelled(texts, self.data_rng, **options)
            self.tokens += int(batch.attention_mask.sum())
            mlm = self.generalist.loss(batch)
            total = total + mlm
            mlm_value = float(mlm.detach())
        return total, sup_value, mlm_value

    def _packed_micro_step(self, size: int, mlm_size: int) -> tuple[Any, float, float]:
        """The same draws as :meth:`_micro_step`, packed into shared rows and run in one forward."""
        packed: list[PackItem] = []
        if self.sampler is not None:
            items = self._items(size)
            with_e = self.generalist.table is not None
            for item, (ids, labels) in zip(items, self.builder.supervised_rows(items)):
                packed.append(PackItem(ids, labels, item.task if with_e else None))
        else:
            mlm_size = size
        if self.use_mlm and mlm_size:
            texts, options = self._texts(mlm_size)
            rows = self.builder.unlabelled_rows(texts, self.data_rng, **options)
            packed += [PackItem(ids, labels, None, mlm=True) for ids, labels in rows]
        batch = pack(packed, capacity=self.pack_tokens, prompt_length=self.generalist.prompt_length, pad_id=self.builder.pad_id)
        self.tokens += batch.tokens
        sup, mlm = self.generalist.packed_losses(batch)
        total: Any = 0.0
        if sup is not None:
            total = self.config.loss.sup_weight * sup
        if mlm is not None:
            total = total + mlm
        return total, float(sup.detach()) if sup is not None else 0.0, float(mlm.detach()) if mlm is not None else 0.0

    def train_step(self) -> tuple[float, float, float]:
        import torch

        optim = self.config.optim
        accum = optim.grad_accum
        micro = optim.batch_size // accum
        mlm_sizes = [self.mlm_batch // accum + (1 if i < self.mlm_batch % accum else 0) for i in range(accum)]
        factor = lr_factor(self.step, steps=optim.steps, warmup=optim.warmup_steps, schedule=optim.schedule)
        for group, base in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = base * factor
        loss_sum = sup_sum = mlm_sum = 0.0
        for index in range(accum):
            total, sup, mlm = self._micro_step(micro, mlm_sizes[index])
            (total / accum).backward()
            loss_sum += float(total.detach())
            sup_sum += sup
            mlm_sum += mlm
        if optim.max_grad_norm is not None:
            params = [p for group in self.optimizer.param_groups for p in group["params"]]
            torch.nn.utils.clip_grad_norm_(params, optim.max_grad_norm)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.step += 1
        return loss_sum / accum, sup_sum / accum, mlm_sum / accum

    # -- the loop ---------------------------------------------------------------------
    def run(self, *, resume: bool = False, stop_after: int | None = None) -> TrainResult:
        """Train to ``optim.steps`` (or only ``stop_after`` more steps, for tests and demos)."""
        from tqdm.auto import tqdm

        metrics_path = self.out_dir / METRICS_FILE
        records = [r for r in read_jsonl(metrics_path) if r.get("step", 0) <= self.step] if resume else []
        _write_records(metrics_path, records)
        total_steps = self.config.optim.steps
        target = total_steps if stop_after is None else min(total_steps, self.step + stop_after)
        self.generalist.train(True)
        window = _Window()
        result = TrainResult(step=self.step, records=records)
        bar = tqdm(total=total_steps, initial=self.step, desc="train", unit="step", disable=not self.progress)
        try:
            while self.step < target:
                start, cpu_start = time.perf_counter(), time.process_time()
                tokens_before = self.tokens
                loss, sup, mlm = self.train_step()
                seconds = time.perf_counter() - start
                cpu = time.process_time() - cpu_start
                tokens = self.tokens - tokens_before
                if not math.isfinite(loss):
                    from zp_evolve.errors import RunError

                    raise RunError(f"the loss became {loss} at step {self.step}; lower optim.lr or check the data")
                window.add(loss, sup, mlm, self.config.optim.batch_size, tokens, seconds, cpu)
                result.seconds += seconds
                result.examples += self.config.optim.batch_size
                result.tokens += tokens
                bar.update(1)
                bar.set_postfix(loss=f"{loss:.3f}", sup=f"{sup:.3f}", mlm=f"{mlm:.3f}")
                if self.step % self.config.log_every == 0 or self.step == target:
                    record = self._record(window)
                    records.append(record)
                    _append_record(metrics_path, record)
                    window = _Window()
                if self.step % self.config.checkpoint.every == 0 and self.step < total_steps:
                    self.save(ckpt.step_dir(self.checkpoints, self.step))
                    ckpt.prune(self.checkpoints, self.config.checkpoint.keep)
        finally:
            bar.close()
            self.generalist.train(False)
        result.step = self.step
        return result

    def _record(self, window: _Window) -> dict[str, Any]:
        steps = max(window.steps, 1)
        return {
            "step": self.step,
            "loss": window.loss / steps,
            "sup": window.sup / steps,
            "mlm": window.mlm / steps,
            "lr": self.optimizer.param_groups[0]["lr"],
            "examples_per_s": window.examples / window.seconds if window.seconds else 0.0,
            "tokens_per_s": window.tokens / window.seconds if window.seconds else 0.0,
            # CPU seconds of the process per step: the work, whatever else shares the cores.
            "cpu_s_per_step": window.cpu_seconds / steps,
        }


def _write_records(path: Path, records: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def _append_record(path: Path, record: dict[str, Any]) -> None:
    with open(path, "a", encoding="utf-8") as stream:
        stream.write(json.dumps(record) + "\n")
