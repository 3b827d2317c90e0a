"""Zero-shot evaluation on held-out tasks (paper Tables 3-5), through the model backends.

Each task's test sample is scored under its handcrafted prompts by the configured
backend (``hf_seq2seq`` / ``hf_causal``: the same scoring code GPS uses), and the
task's metric is computed from the predictions. A trained checkpoint brings its soft
prompts; tasks without one get E by ``soft_prompts.mode`` (:mod:`zp_trainer.unseen`).

Outputs in the run directory: ``tasks.jsonl`` (one line per finished task, so a
killed evaluation resumes), ``results.md`` and ``results.csv`` (per task, then the
All/Seen/Unseen means), and ``summary.json``.
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from pathlib import Path
from typing import Any, Mapping, Sequence

from zp_evolve.errors import ConfigError, ConfigIssue, ModelError, ZpError
from zp_evolve.rundir import read_jsonl
from zp_trainer.checkpoint import read_training
from zp_trainer.runs import start_run_dir, write_summary
from zp_trainer.tables import means, write_tables
from zp_trainer.unseen import PER_SAMPLE, TaskClassifier, combine

RESULTS_FILE = "tasks.jsonl"


def checkpoint_backend(checkpoint: str, kind: str, config: Any, options: Mapping[str, Any]) -> dict[str, Any]:
    """The backend entry that scores a checkpoint exactly as it was trained (E, V, D, input cut)."""
    spec: dict[str, Any] = {
        "backend": "hf_seq2seq" if kind == "seq2seq" else "hf_causal",
        "name": str(checkpoint),
        "use_verbalizers": config.prompt.verbalizers,
        "use_description": config.prompt.description,
        "soft_prompts": config.prompt.soft_prompt,
        "max_input_chars": config.max_input_chars,
    }
    spec.update(options)
    return spec


def _with_training_defaults(spec: dict[str, Any], training: Mapping[str, Any] | None) -> dict[str, Any]:
    """A checkpoint is scored with the V and D switches and the input cut it was trained with,
    unless the config says otherwise."""
    spec = dict(spec)
    prompt = (training or {}).get("prompt") or {}
    if "verbalizers" in prompt:
        spec.setdefault("use_verbalizers", prompt["verbalizers"])
    if "description" in prompt:
        spec.setdefault("use_description", prompt["description"])
    trained_cut = ((training or {}).get("config") or {}).get("max_input_chars")
    if isinstance(trained_cut, int):
        spec.setdefault("max_input_chars", trained_cut)
    return spec


CLASSIFIER_MODES = ("weighted_all", *PER_SAMPLE)


def unseen_mode(configured: str | None, training: Mapping[str, Any] | None, embedder: str) -> tuple[str, str | None]:
    """``(mode, why it fell back)``: E for unseen tasks as configured, else as the checkpoint's
    recipe says (``prompt.unseen_init``), else ``random``.

    A defaulted classifier mode (top1...) falls back to ``random``, with a warning, when the
    sentence embedder is missing or the checkpoint has fewer than two trained prompts; a mode
    the config names outright fails instead, so Table 5's cells never measure a substitute.
    """
    if configured is not None:
        return configured, None
    prompt = (training or {}).get("prompt") or {}
    mode = str(prompt.get("unseen_init") or "random")
    if mode not in CLASSIFIER_MODES or not prompt.get("soft_prompt", True):
        return mode, None
    why = None
    if len((training or {}).get("tasks") or []) < 2:
        why = f"the checkpoint has fewer than two trained task prompts for soft_prompts.mode {mode}"
    else:
        from zp_hf.loading import resolve_model_source

        try:
            resolve_model_source(embedder, progress=False)
        except ZpError as error:
            why = (
                f"soft_prompts.mode {mode} (the checkpoint's recipe) needs the sentence embedder {embedder!r}, "
                f"which is missing ({error}); run 'zp-evolve models pull minilm' to use it"
            )
    if why is None:
        return mode, None
    warnings.warn(f"{why}; unseen tasks get random E instead", stacklevel=2)
    return "random", why


def _classifier_examples(catalog: Any, tasks: Sequence[str], per_task: int, seed: int) -> dict[str, list[Any]]:
    from zp_evolve.sampling import task_rng

    out = {}
    for name in tasks:
        if name not in catalog:
            raise ModelError(
                f"training task {name!r} of the checkpoint is not in this config's task providers; "
                "add its provider under tasks.providers so the task classifier can read it"
            )
        pool = catalog.eval_pool(name)
        out[name] = task_rng(seed, name, "classifier").sample(pool, min(per_task, len(pool)))
    return out


class SoftPromptPlanner:
    """Gives unseen tasks (or each of their examples) a soft prompt, per ``mode``."""

    def __init__(self, backend: Any, mode: str, training: Mapping[str, Any] | None, catalog: Any, config: Any, seed: int) -> None:
        self.table = getattr(backend, "soft_prompts", None)
        self.mode = mode
        self.classifier: TaskClassifier | None = None
        self.trained = [t for t in (training or {}).get("tasks", []) if self.table is not None and t in self.table]
        if self.table is not None and mode in CLASSIFIER_MODES:
            if len(self.trained) < 2:
                raise ModelError(f"soft_prompts.mode {mode} needs a checkpoint with at least two trained task prompts")
            classifier = config.classifier
            examples = _classifier_examples(catalog, self.trained, classifier.per_task, seed)
            self.classifier = TaskClassifier.fit(
                examples, embedder=classifier.embedder, per_task=classifier.per_task, c=classifier.c, seed=seed
            )

    def tasks_for(self, task: Any, examples: Sequence[Any]) -> tuple[list[Any], dict[str, Any]]:
        """The Task each example is scored as (per-sample modes rename them) and what was done."""
        if self.table is None or task.name in self.table or self.classifier is None:
            how = "trained" if self.table is not None and task.name in self.table else self.mode
            return [task] * len(examples), {"soft_prompt": how if self.table is not None else "absent"}
        probs = self.classifier.probabilities(examples)
        prompts = combine(self.table, self.classifier.tasks, probs, self.mode)
        mean = [sum(column) / len(probs) for column in zip(*probs)]
        nearest = sorted(zip(mean, self.classifier.tasks), reverse=True)[:3]
        info = {"soft_prompt": self.mode, "nearest_training_tasks": [[name, round(p, 4)] for p, name in nearest]}
        if self.mode == "weighted_all":
            self.table.add_task(task.name, prompts[0])
            return [task] * len(examples), info
        renamed = []
        for index, vectors in enumerate(prompts):
            alias = f"{task.name}#{index}"
            if alias not in self.table:
                self.table.add_task(alias, vectors)
            renamed.append(dataclasses.replace(task, name=alias))
        return renamed, info


def evaluate_task(backend: Any, task: Any, scored_as: Sequence[Any], examples: Sequence[Any], prompts: Sequence[str], metric_name: str | None, metrics: Any) -> dict[str, Any]:
    """The task's metric under each prompt, and their mean."""
    from zp_hf.fitness import metric_function
    from zp_hf.formatting import PredictItem

    items = [PredictItem(as_task, prompt, example) for prompt in prompts for as_task, example in zip(scored_as, examples)]
    predictions = backend.predict(items)
    metric = metric_function(metric_name or task.metric, metrics)
    references = [example.target for example in examples]
    scores = []
    for index in range(len(prompts)):
        chunk = predictions[index * len(examples) : (index + 1) * len(examples)]
        scores.append(float(metric(chunk, references)))
    return {"score": sum(scores) / len(scores), "prompt_scores": scores}


def run_eval(
    section: Any,
    backend_spec: dict[str, Any],
    data: dict[str, Any],
    out_dir: Path,
    *,
    resume: bool,
    progress: bool,
    header: Any = None,
    job: str = "eval",
) -> dict[str, Any]:
    """Evaluate one backend on the selected held-out tasks; returns (and writes) the summary."""
    from tqdm.auto import tqdm

    from zp_evolve.catalog import TaskCatalog
    from zp_evolve.plugins import load_plugins
    from zp_evolve.sampling import sample_test
    from zp_trainer.data import select_tasks

    header = header or section
    out_dir = Path(out_dir)
    start_run_dir(out_dir, data, resume=resume)
    plugins = load_plugins()
    catalog = TaskCatalog(plugins, section.tasks.providers)
    tasks = select_tasks(catalog, section.tasks, side="test", seed=header.seed)
    name = str(backend_spec.get("name", ""))
    training = read_training(name) if Path(name).is_dir() else None
    seen_types = section.tasks.seen_types
    if seen_types is None and training is not None:
        seen_types = list(training.get("types", []))
    if seen_types is None and section.tasks.split is not None:
        from zp_evolve.splits import find_split_file, split_task_names

        trained = split_task_names(find_split_file(section.tasks.split.file), "train", catalog=catalog)
        seen_types = sorted({catalog.get(n).type for n in trained})
    seen = set(seen_types or [])
    mode, fallback = unseen_mode(section.soft_prompts.mode, training, section.soft_prompts.classifier.embedder)
    spec = _with_training_defaults(backend_spec, training)
    spec["unseen_soft_prompt"] = "none" if mode == "none" else "random"
    spec.setdefault("seed", header.seed)
    backend = plugins.build("backends", spec, path="model")
    planner = SoftPromptPlanner(backend, mode, training, catalog, section.soft_prompts, header.seed)
    results_path = out_dir / RESULTS_FILE
    done = {row["task"]: row for row in read_jsonl(results_path)} if resume else {}
    if not resume:
        results_path.unlink(missing_ok=True)
    rows = []
    for task in tqdm(tasks, desc="eval", unit="task", disable=not progress):
        if task.name in done:
            rows.append(done[task.name])
            continue
        if "test" not in task.splits:
            raise ConfigError([ConfigIssue("tasks", f"task {task.name!r} has no test split to evaluate on")])
        examples = sample_test(task, catalog.examples(task.name, "test"), header.seed, section.tasks.max_examples)
        prompts = list(task.prompts) if section.prompts == "all" else list(task.prompts[:1])
        scored_as, info = planner.tasks_for(task, examples)
        result = evaluate_task(backend, task, scored_as, examples, prompts, section.metric, plugins["metrics"])
        row = {
            "task": task.name,
            "type": task.type,
            "language": task.language,
            "metric": section.metric or task.metric,
            "n": len(examples),
            "seen_type": task.type in seen,
            **result,
            **info,
        }
        rows.append(row)
        with open(results_path, "a", encoding="utf-8") as stream:
            stream.write(json.dumps(row, ensure_ascii=False) + "\n")
    summary = _summary(job, header.name, name, rows, spec, mode, seen_types)
    if fallback is not None:
        summary["soft_prompt_fallback"] = fallback
    write_tables(rows, out_dir, title=f"{header.name}: zero-shot on {len(rows)} tasks ({name})")
    return write_summary(out_dir, summary)


def _summary(job: str, name: str, model: str, rows: Sequence[Mapping[str, Any]], spec: Mapping[str, Any], mode: str, seen_types: Any) -> dict[str, Any]:
    tasks = {
        row["task"]: {
            key: row[key]
            for key in ("type", "language", "metric", "score", "n", "seen_type", "prompt_scores", "soft_prompt")
            if key in row
        }
        for row in rows
    }
    summary = means(rows)
    return {
        "job": job,
        "name": name,
        "model": model,
        "mean": summary["All"],
        "seen_mean": summary["Seen"],
        "unseen_mean": summary["Unseen"],
        "tasks": tasks,
        "soft_prompt_mode": mode,
        "seen_types": list(seen_types or []),
        "backend": {k: v for k, v in spec.items()},
        "tables": {"markdown": "results.md", "csv": "results.csv"},
    }
