"""The trainer's jobs: ``train``, ``eval``, ``train_eval`` and ``pretrain``.

Each is what one YAML file (``job: NAME``) or one sweep cell runs, through
``zp-evolve run FILE`` / ``zp-evolve resume DIR`` (or ``zp-evolve train`` / ``eval``).
``validate`` reports every config problem at once without loading a model; ``run``
writes ``config.yaml``, its outputs and ``summary.json`` into the run directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from zp_evolve.errors import ConfigIssue
from zp_trainer import schema
from zp_trainer.validation import task_issues, validate_model

#: Where a ``train_eval`` run keeps its training run (checkpoint, metrics.jsonl), inside its own folder.
TRAIN_DIR = "train"


def _plugins() -> Any:
    from zp_evolve.plugins import load_plugins

    return load_plugins()


def _train_issues(plugins: Any, data: Mapping[str, Any], file: str) -> list[ConfigIssue]:
    tasks = data.get("tasks") if isinstance(data.get("tasks"), Mapping) else None
    issues = task_issues(plugins, tasks, "tasks", file)
    if tasks is not None and isinstance(tasks.get("test_tasks"), Mapping):
        issues += task_issues(plugins, tasks["test_tasks"], "tasks.test_tasks", file)
    return issues


def _eval_issues(plugins: Any, data: Mapping[str, Any], file: str, path: str = "") -> list[ConfigIssue]:
    prefix = f"{path}." if path else ""
    issues = task_issues(plugins, data.get("tasks"), f"{prefix}tasks", file)
    metric = data.get("metric")
    if isinstance(metric, str) and metric not in plugins["metrics"]:
        issues.append(ConfigIssue(f"{prefix}metric", plugins["metrics"].unknown_message(metric)))
    elif not issues:
        issues += _metric_issues(plugins, data, metric if isinstance(metric, str) else None, prefix)
    return issues


def _metric_issues(plugins: Any, data: Mapping[str, Any], metric: str | None, prefix: str) -> list[ConfigIssue]:
    """The metric each task named outright is scored with (``metric``, else its own) against the task."""
    from zp_evolve.catalog import catalog_of
    from zp_evolve.task_checks import describe, metric_problem

    tasks = data.get("tasks") if isinstance(data.get("tasks"), Mapping) else {}
    names = tasks.get("names") if isinstance(tasks.get("names"), list) else []
    catalog = catalog_of(plugins, tasks.get("providers", [{"name": "packaged"}]))
    issues = []
    for name in (n for n in names if isinstance(n, str) and n in catalog):
        task = catalog.get(name)
        why = metric_problem(metric or task.metric, task, plugins)
        if why is not None:
            issues.append(ConfigIssue(f"{prefix}metric" if metric else f"{prefix}tasks.names",
                                      f"task {describe(task)} is scored with metric {metric or task.metric!r}, which {why}"))
    return issues


class _Job:
    model: type = schema.TrainConfig

    def __init__(self, *, progress: bool = True) -> None:
        self.progress = progress

    def issues(self, plugins: Any, data: Mapping[str, Any], file: str) -> list[ConfigIssue]:
        """Problems beyond the schema; ``file`` is the config's path (split files are found next to it)."""
        return []

    def validate(self, data: dict[str, Any], *, file: str = "", lines: Mapping[tuple, int] | None = None) -> Any:
        extra = self.issues(_plugins(), data, file) if isinstance(data, dict) else []
        return validate_model(self.model, data, file=file, lines=lines, extra=extra)


class TrainJob(_Job):
    """Multitask prompted training of a generalist (paper sections 3.4, 4.1)."""

    model = schema.TrainConfig

    def issues(self, plugins: Any, data: Mapping[str, Any], file: str) -> list[ConfigIssue]:
        return _train_issues(plugins, data, file)

    def run(self, data: dict[str, Any], out_dir: Path, *, resume: bool = False) -> dict[str, Any]:
        from zp_trainer.runs import run_train

        config = self.validate(data, file=str(out_dir / "config.yaml") if resume else "")
        return run_train(config, data, Path(out_dir), resume=resume, progress=self.progress)


class PretrainJob(_Job):
    """A small T5 from scratch: sentencepiece tokenizer, then span corruption."""

    def __init__(self, *, progress: bool = True) -> None:
        from zp_trainer.pretrain import PretrainConfig

        super().__init__(progress=progress)
        self.model = PretrainConfig

    def issues(self, plugins: Any, data: Mapping[str, Any], file: str) -> list[ConfigIssue]:
        return task_issues(plugins, data.get("corpus"), "corpus", file)  # its task providers

    def run(self, data: dict[str, Any], out_dir: Path, *, resume: bool = False) -> dict[str, Any]:
        from zp_trainer.runs import run_pretrain

        config = self.validate(data, file=str(out_dir / "config.yaml") if resume else "")
        return run_pretrain(config, data, Path(out_dir), resume=resume, progress=self.progress)


class EvalJob(_Job):
    """Zero-shot evaluation of a model or trained checkpoint on held-out tasks."""

    model = schema.EvalConfig

    def issues(self, plugins: Any, data: Mapping[str, Any], file: str) -> list[ConfigIssue]:
        issues = _eval_issues(plugins, data, file)
        if isinstance(data.get("model"), dict):
            issues += plugins.check_spec("backends", data["model"], "model")
        return issues

    def run(self, data: dict[str, Any], out_dir: Path, *, resume: bool = False) -> dict[str, Any]:
        from zp_trainer.evaluate import run_eval

        config = self.validate(data, file=str(out_dir / "config.yaml") if resume else "")
        return run_eval(config, dict(config.model), data, Path(out_dir), resume=resume, progress=self.progress)


class TrainEvalJob(_Job):
    """Train, then evaluate the final checkpoint zero-shot (one sweep cell of Tables 4 and 5)."""

    model = schema.TrainEvalConfig

    def issues(self, plugins: Any, data: Mapping[str, Any], file: str) -> list[ConfigIssue]:
        issues = _train_issues(plugins, data, file)
        if isinstance(data.get("eval"), Mapping):
            issues += _eval_issues(plugins, data["eval"], file, "eval")
        return issues

    def run(self, data: dict[str, Any], out_dir: Path, *, resume: bool = False) -> dict[str, Any]:
        from zp_trainer.evaluate import checkpoint_backend, run_eval
        from zp_trainer.runs import read_summary, run_train, start_run_dir

        out_dir = Path(out_dir)
        config = self.validate(data, file=str(out_dir / "config.yaml") if resume else "")
        start_run_dir(out_dir, data, resume=resume)  # before training, so a killed run resumes
        done = read_summary(out_dir) if resume else None
        if done is not None and "mean" in done:
            return done
        train_dir = out_dir / TRAIN_DIR
        trained = run_train(config, data, train_dir, resume=resume, progress=self.progress)
        backend = checkpoint_backend(trained["checkpoint"], trained["kind"], config, config.eval.backend_options)
        summary = run_eval(config.eval, backend, data, out_dir, resume=resume, progress=self.progress, header=config, job="train_eval")
        summary["train"] = {k: trained.get(k) for k in ("checkpoint", "steps", "final_loss", "examples_per_s", "tasks", "types")}
        from zp_trainer.runs import write_summary

        return write_summary(out_dir, summary)
