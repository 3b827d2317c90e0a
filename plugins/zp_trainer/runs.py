"""Running ``train`` and ``pretrain`` jobs into a run directory.

Layout of a training run::

    config.yaml          the config as given (resume reads it back)
    data.json            training tasks, example counts, decontamination report
    metrics.jsonl        one record per log_every steps: losses, learning rate, examples/s
    checkpoints/step-N/  resumable checkpoints (model, E, tokenizer, optimizer, RNG)
    checkpoint/          the final model checkpoint: load it with name: RUN_DIR/checkpoint
    loss_curve.png       total, supervised and MLM loss per step
    summary.json         checkpoint path, steps, final losses, throughput, training tasks
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from zp_evolve.errors import RunError
from zp_evolve.rundir import RunDirectory
from zp_trainer import checkpoint as ckpt

FINAL = "checkpoint"
TRAINING_FORMAT = "zp_evolve.trainer/1"


def start_run_dir(out_dir: Path, data: dict[str, Any], *, resume: bool) -> None:
    """Write ``config.yaml`` (kept as is on resume); refuse to start afresh over another run."""
    run = RunDirectory(out_dir)
    if resume and run.config_path.is_file():
        return
    if run.summary_path.is_file() or (out_dir / "checkpoints").is_dir():
        raise RunError(f"{out_dir} already holds a run. Continue it with 'zp-evolve resume {out_dir}' or choose another --run-dir.")
    run.create(data)


def write_summary(out_dir: Path, summary: dict[str, Any]) -> dict[str, Any]:
    RunDirectory(out_dir).write_summary(summary)
    return summary


def read_summary(out_dir: Path) -> dict[str, Any] | None:
    path = out_dir / "summary.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _threads(threads: int | None) -> None:
    if threads:
        import torch

        torch.set_num_threads(threads)


def cpu_seconds() -> float:
    """User plus system CPU time of this process so far (its threads included)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_gb() -> float:
    """The largest resident memory this process has had so far, in GB (Linux reports KiB)."""
    import resource
    import sys

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1e9 if sys.platform == "darwin" else peak * 1024 / 1e9


def _finish(
    trainer: Any, result: Any, out_dir: Path, info: dict[str, Any], summary: dict[str, Any], title: str,
    started: tuple[float, float],
) -> dict[str, Any]:
    import time

    from zp_trainer.curves import plot_losses

    final = out_dir / FINAL
    trainer.generalist.save(final)
    ckpt.write_json(final / ckpt.TRAINING_FILE, {**info, "step": trainer.step})
    curve = plot_losses(result.records, out_dir / "loss_curve.png", title=title)
    last = result.records[-1] if result.records else {}
    parameters = sum(p.numel() for p in trainer.generalist.model.parameters())
    trainable = sum(p.numel() for group in trainer.optimizer.param_groups for p in group["params"])
    summary.update(
        {
            "checkpoint": str(final),
            "steps": trainer.step,
            "final_loss": {key: last.get(key) for key in ("loss", "sup", "mlm")},
            "examples_per_s": result.examples / result.seconds if result.seconds else None,
            "tokens_per_s": result.tokens / result.seconds if result.seconds else None,
            "train_seconds": result.seconds,
            # This invocation only (data, model loading, steps, checkpoints); a resumed run
            # reports the part after its restart. CPU time is what the job needs; wall time
            # also counts the other jobs sharing the cores.
            "wall_seconds": time.time() - started[0],
            "cpu_seconds": cpu_seconds() - started[1],
            "peak_rss_gb": peak_rss_gb(),
            "parameters": parameters,
            "trainable_parameters": trainable,
            "loss_curve": str(curve) if curve else None,
            "metrics": str(out_dir / "metrics.jsonl"),
        }
    )
    return write_summary(out_dir, summary)


def run_train(config: Any, data: dict[str, Any], out_dir: Path, *, resume: bool, progress: bool, stop_after: int | None = None) -> dict[str, Any]:
    """Train a generalist (the ``train`` job, and the first half of ``train_eval``)."""
    import time

    from zp_evolve.catalog import TaskCatalog
    from zp_evolve.plugins import load_plugins
    from zp_trainer.data import build_training_data
    from zp_trainer.loop import Trainer
    from zp_trainer.model import Generalist

    started = (time.time(), cpu_seconds())
    done = read_summary(out_dir) if resume else None
    if done is not None and done.get("job") in ("train", "train_eval") and "checkpoint" in done:
        return done
    _threads(config.model.threads)
    start_run_dir(out_dir, data, resume=resume)
    catalog = TaskCatalog(load_plugins(), config.tasks.providers)
    training = build_training_data(catalog, config.tasks, seed=config.seed, with_mlm=config.loss.mlm)
    ckpt.write_json(out_dir / "data.json", training.report())
    resume_from = ckpt.latest(out_dir / "checkpoints") if resume else None
    task_names = [t.task.name for t in training.tasks]
    generalist = Generalist.load(
        config.model.name,
        kind=config.model.kind,
        dtype=config.model.dtype,
        device=config.model.device,
        tasks=task_names,
        soft_prompt=config.prompt.soft_prompt,
        soft_prompt_length=config.prompt.soft_prompt_length,
        init_std=config.prompt.soft_prompt_init_std,
        seed=config.seed,
        lora=config.lora.model_dump() if config.lora is not None else None,
        resume=resume_from,
        autocast=config.model.autocast,
        gradient_checkpointing=config.model.gradient_checkpointing,
        checkpoint_every=config.model.checkpoint_every,
    )
    info = {
        "format": TRAINING_FORMAT,
        "job": "train",
        "base_model": config.model.name,
        "kind": generalist.kind,
        "tasks": task_names,
        "types": sorted({t.task.type for t in training.tasks}),
        "task_types": {t.task.name: t.task.type for t in training.tasks},
        "recipe": config.recipe,
        "prompt": config.prompt.model_dump(),
        "lora": config.lora.model_dump() if config.lora is not None else None,
        "held_out": training.test_tasks,
        "config": data,
    }
    trainer = Trainer(config, generalist, training.tasks, training.mlm_texts, out_dir, seed=config.seed, training_info=info, progress=progress)
    if resume_from is not None:
        trainer.restore(resume_from)
    result = trainer.run(resume=resume_from is not None, stop_after=stop_after)
    summary = {
        "job": "train",
        "name": config.name,
        "model": config.model.name,
        "kind": generalist.kind,
        "tasks": task_names,
        "types": info["types"],
        "training_examples": sum(len(t.examples) for t in training.tasks),
        "dropped_by_decontamination": sum(t.dropped for t in training.tasks),
        "resumed_from_step": int(resume_from.name.split("-")[1]) if resume_from else None,
    }
    if trainer.step < config.optim.steps:  # stopped early on purpose (stop_after): resumable, not done
        return {**summary, "steps": trainer.step, "stopped": True}
    title = f"{config.name}: {generalist.kind}{' + LoRA' if generalist.lora else ''}, {len(task_names)} tasks"
    return _finish(trainer, result, out_dir, info, summary, title=title, started=started)


def run_pretrain(config: Any, data: dict[str, Any], out_dir: Path, *, resume: bool, progress: bool, stop_after: int | None = None) -> dict[str, Any]:
    """Pretrain a T5 from scratch by span corruption (the ``pretrain`` job)."""
    import time

    from transformers import AutoTokenizer

    from zp_hf.loading import check_device, load_seq2seq_lm
    from zp_trainer.loop import Trainer
    from zp_trainer.model import Generalist
    from zp_trainer.pretrain import build_t5, corpus_texts, fingerprint, install, installed_with, train_tokenizer

    started = (time.time(), cpu_seconds())
    done = read_summary(out_dir) if resume else None
    if done is not None and done.get("job") == "pretrain":
        return done
    _threads(config.threads)
    start_run_dir(out_dir, data, resume=resume)
    learned = fingerprint(data)
    if config.install_as and config.reuse_installed:
        reused = installed_with(config.install_as, learned)
        if reused is not None:  # e.g. a second sweep that needs the same T5
            return write_summary(out_dir, {"job": "pretrain", "name": config.name, "installed": str(reused), "reused": True})
    texts = corpus_texts(config.corpus, config.seed)
    resume_from = ckpt.latest(out_dir / "checkpoints") if resume else None
    if resume_from is not None:
        model, tokenizer = load_seq2seq_lm(str(resume_from), device=config.device)
    else:
        tokenizer_dir = out_dir / "tokenizer"
        if resume and tokenizer_dir.is_dir():  # killed before the first checkpoint: same tokenizer
            tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
        else:
            tokenizer = train_tokenizer(texts, config.tokenizer, seed=config.seed)
            tokenizer.save_pretrained(tokenizer_dir)
        model = build_t5(tokenizer, config.model, seed=config.seed).to(check_device(config.device))
    info = {
        "format": TRAINING_FORMAT,
        "job": "pretrain",
        "kind": "seq2seq",
        "tasks": [],
        "types": [],
        "corpus_texts": len(texts),
        "config": data,
    }
    trainer = Trainer(config, Generalist(model, tokenizer, "seq2seq", None), [], texts, out_dir, seed=config.seed, training_info=info, progress=progress)
    if resume_from is not None:
        trainer.restore(resume_from)
    result = trainer.run(resume=resume_from is not None, stop_after=stop_after)
    summary = {"job": "pretrain", "name": config.name, "corpus_texts": len(texts), "vocab_size": len(tokenizer)}
    if trainer.step < config.optim.steps:
        return {**summary, "steps": trainer.step, "stopped": True}
    summary = _finish(trainer, result, out_dir, info, summary, title=f"{config.name}: T5 span corruption from scratch", started=started)
    if config.install_as:
        info = {"run": str(out_dir), "steps": trainer.step, "fingerprint": learned}
        summary["installed"] = str(install(out_dir / FINAL, config.install_as, info=info))
        write_summary(out_dir, summary)
    return summary
