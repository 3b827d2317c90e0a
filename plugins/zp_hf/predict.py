"""``zp-evolve predict``: answer new rows with a finished search's prompts and its own model.

The run directory holds everything: ``config.yaml`` gives the model (backend and
options) and the task providers, ``summary.json`` the final prompts, best on dev
first. Rows come from a JSONL or CSV file, read by the ``files`` provider's reader
(:mod:`zp_datasets.inputs`): every row is checked in a first pass, so a bad row fails
with its ``file:line`` before the model loads, and then streamed in batches; only a
batch of rows and their predictions is in memory at a time.

Each output line (JSONL) holds the row's ``source`` (``file:line``), the
``prediction`` (a label, an option or generated text), for classification the
per-label ``scores`` (log-probabilities over the labels: each prompt's scores are
normalised, then averaged over the prompts), the ``prompts`` used, and the row's
``target`` when it has one. By default the run's own answer is used: its best prompt,
or its ensemble when the search answered with one (``selection.answer: ensemble``).
``--top K`` ensembles the K best prompts instead
(:func:`zp_evolve.ensemble.ensemble_label_scores`); generated text is the answer most
prompts gave (ties: the better prompt's). A run scored with contextual calibration
(``fitness: {calibrate: true}``) predicts with it too: each prompt's label prior on
content-free inputs is divided out, as during the search.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Iterable, Iterator, Mapping, Sequence

from zp_evolve.errors import ConfigError, RunError
from zp_evolve.tasks import Example, Task


@dataclass
class RunPrompts:
    """What predict needs of a run: its validated config, the task, and the prompts to use."""

    config: Any
    task: Task
    prompts: list[str]
    metric: str
    catalog: Any

    @property
    def calibrated(self) -> bool:
        """Whether the run's scorer divided out the content-free label prior (and this task has labels)."""
        from zp_hf.calibration import calibrates

        return bool((self.config.fitness or {}).get("calibrate")) and calibrates(self.task)

    def label_priors(self, backend: Any) -> list[dict[str, float]] | None:
        """Per prompt, log p_cf: the label prior calibration removes (``None`` without calibration)."""
        if not self.calibrated:
            return None
        from zp_hf.calibration import CONTENT_FREE_INPUTS, content_free_examples, label_prior
        from zp_hf.formatting import PredictItem

        texts = (self.config.fitness or {}).get("content_free") or CONTENT_FREE_INPUTS
        free = content_free_examples(self.task, texts)
        outputs = backend.predict([PredictItem(self.task, prompt, example) for prompt in self.prompts for example in free])
        return [label_prior(outputs[k * len(free) : (k + 1) * len(free)]) for k in range(len(self.prompts))]


def load_run(run_dir: Path, task_name: str | None, top: int | None, overrides: Sequence[str], plugins: Any) -> RunPrompts:
    """The run's config (with ``model.*`` overrides), its task, and its answer's prompts (or its ``top`` best)."""
    from zp_evolve.catalog import TaskCatalog
    from zp_evolve.config import apply_overrides
    from zp_evolve.rundir import RunDirectory
    from zp_gps.config import validate

    run = RunDirectory(run_dir)
    data = run.read_config()
    summary = run.read_summary()
    tasks = summary.get("tasks") or {}
    if not all(isinstance(t, dict) and "top_k" in t for t in tasks.values()) or not tasks:
        raise RunError(f"{run_dir} is not a prompt search (no top_k prompts in summary.json); predict needs a 'job: gps' run")
    if task_name is None:
        if len(tasks) != 1:
            raise ConfigError(f"{run_dir} searched {len(tasks)} tasks: pick one with --task ({', '.join(tasks)})")
        task_name = next(iter(tasks))
    if task_name not in tasks:
        raise ConfigError(f"{run_dir} searched no task {task_name!r}; its tasks are: {', '.join(tasks)}")
    bad = [o for o in overrides if not o.startswith("model.")]
    if bad:
        raise ConfigError(f"--set changes model options only (model.KEY=VALUE), not {', '.join(bad)}")
    if overrides:
        data = apply_overrides(data, list(overrides))
    config = validate(data, plugins, file=str(run.config_path))
    if not config.model:
        raise RunError(f"{run_dir} has no model in its config.yaml: predict runs the model that scored the prompts")
    ranked = [entry["prompt"] for entry in tasks[task_name]["top_k"]]
    answer = (tasks[task_name].get("answer") or {}).get("prompts") or ranked[:1]
    if top is not None and not 1 <= top <= len(ranked):
        raise ConfigError(f"--top must be between 1 and {len(ranked)}, the prompts the run kept for {task_name!r} (got {top})")
    catalog = TaskCatalog(plugins, config.tasks.providers)
    task = catalog.get(task_name)
    metric = (config.fitness or {}).get("metric") or task.metric
    return RunPrompts(config, task, list(answer) if top is None else ranked[:top], metric, catalog)


def combine(outputs: Sequence[Any]) -> dict[str, Any]:
    """One row's answer from each prompt's output: ensembled label scores, or the most common text."""
    from zp_evolve.ensemble import ensemble_label_scores

    if isinstance(outputs[0], Mapping):
        scores = ensemble_label_scores(outputs)
        best = max(scores, key=lambda label: scores[label])  # the first of equal scores, as the metrics do
        return {"prediction": best, "scores": {k: (v if math.isfinite(v) else None) for k, v in scores.items()}}
    texts = [str(text) for text in outputs]
    votes = Counter(texts)
    best = max(texts, key=lambda text: (votes[text], -texts.index(text)))
    answer: dict[str, Any] = {"prediction": best}
    if len(texts) > 1:
        answer["generations"] = texts
    return answer


def batched(rows: Iterable[Example], size: int) -> Iterator[list[Example]]:
    batch: list[Example] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def predict_stream(
    backend: Any,
    task: Task,
    prompts: Sequence[str],
    rows: Iterable[Example],
    out: IO[str],
    *,
    batch_size: int,
    on_row: Any = None,
    priors: Sequence[Mapping[str, float]] | None = None,
) -> int:
    """Write one JSON line per row to ``out``; returns the rows written.

    ``on_row(answer, example)`` sees every row's answer (for a progress bar or a score);
    ``priors`` (one per prompt) calibrate each prompt's label scores first.
    """
    from zp_hf.calibration import calibrate
    from zp_hf.formatting import PredictItem

    written = 0
    for batch in batched(rows, batch_size):
        items = [PredictItem(task, prompt, example) for prompt in prompts for example in batch]
        outputs = backend.predict(items)
        if priors is not None:
            outputs = [calibrate(o, priors[i // len(batch)]) if isinstance(o, Mapping) else o for i, o in enumerate(outputs)]
        lines = []
        for index, example in enumerate(batch):
            answer = combine([outputs[k * len(batch) + index] for k in range(len(prompts))])
            written += 1
            row: dict[str, Any] = {"row": written, "source": example.source, **answer, "prompts": list(prompts)}
            if example.target:
                row["target"] = example.target
            lines.append(json.dumps(row, ensure_ascii=False, allow_nan=False))
            if on_row is not None:
                on_row(answer, example)
        out.write("\n".join(lines) + "\n")
        out.flush()  # a killed run keeps every finished batch
    return written


def predict_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", help="a finished search (run directory with config.yaml and summary.json)")
    parser.add_argument("--task", help="the task to predict (needed when the run searched several)")
    parser.add_argument("--input", required=True, metavar="FILE", help="rows to predict: .jsonl, .csv or .tsv")
    parser.add_argument("--top", type=int, default=None, metavar="K",
                        help="ensemble the K best prompts (default: the run's answer, its best prompt or its ensemble)")
    parser.add_argument("--output", "-o", metavar="FILE", help="write JSONL here (default: standard output)")
    parser.add_argument("--column", action="append", default=[], metavar="X=COLUMN",
                        help="the column of a placeholder, e.g. --column X=review (default: the task card's, else X, X1...)")
    parser.add_argument("--target", metavar="COLUMN", help="the label column, if any (default: the card's, else label or target)")
    parser.add_argument("--options", metavar="COLUMN", help="multiple-choice options column (default: the card's, else options)")
    parser.add_argument("--batch-size", type=int, default=64, metavar="N", help="rows per model call (default 64)")
    parser.add_argument("--on-bad-rows", choices=("error", "skip"), default="error", help="stop at a bad row (default) or skip it")
    parser.add_argument("--score", action="store_true",
                        help="print the task's metric over rows that have labels (keeps each row's scores in memory)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="model.KEY=VALUE",
                        help="change a model option of the run, e.g. --set model.device=cuda --set model.batch_size=64")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")


def _columns(pairs: Sequence[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        name, sep, column = pair.partition("=")
        if not sep or not name.strip() or not column.strip():
            raise ConfigError(f"--column {pair!r}: write PLACEHOLDER=COLUMN, e.g. --column X=review")
        out[name.strip().strip("[]")] = column.strip()
    return out


def predict_command(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from zp_datasets.inputs import read_inputs, resolve_columns
    from zp_evolve.plugins import load_plugins

    if args.batch_size < 1:
        raise ConfigError("--batch-size must be at least 1")
    plugins = load_plugins()
    run = load_run(Path(args.run_dir), args.task, args.top, args.overrides, plugins)
    provider = run.catalog.provider_of(run.task.name)
    card = provider.input_columns(run.task.name) if hasattr(provider, "input_columns") else None
    columns = resolve_columns(run.task, _columns(args.column), card=card, target=args.target, options=args.options)
    # First pass: every row checked (file:line errors before the model loads) and counted, nothing kept.
    total = sum(1 for _ in read_inputs(args.input, run.task, columns, on_bad_rows=args.on_bad_rows, report=False))
    backend = plugins.build("backends", run.config.model, path="model")
    scored: list[tuple[Any, str]] = []
    bar = tqdm(total=total, desc=f"predict {run.task.name}", unit="row", disable=True if args.no_progress else None)

    def on_row(answer: dict[str, Any], example: Example) -> None:
        bar.update(1)
        if args.score and example.target:
            scored.append((answer.get("scores") or answer["prediction"], example.target))

    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    written = 0
    try:
        rows = read_inputs(args.input, run.task, columns, on_bad_rows=args.on_bad_rows)
        written = predict_stream(
            backend, run.task, run.prompts, rows, out, batch_size=args.batch_size, on_row=on_row, priors=run.label_priors(backend)
        )  # fmt: skip
    except BaseException:
        if args.output:
            print(f"predict stopped; the rows answered so far are in {args.output}", file=sys.stderr)
        raise
    finally:
        bar.close()
        if args.output:
            out.close()
    where = args.output or "standard output"
    calibrated = ", calibrated" if run.calibrated else ""
    print(f"predict: {written} rows of {args.input} -> {where} (task {run.task.name}, {len(run.prompts)} prompt(s){calibrated})",
          file=sys.stderr)
    if args.score:
        _print_score(run.metric, scored, written, plugins)
    return 0


def _print_score(metric: str, scored: list[tuple[Any, str]], written: int, plugins: Any) -> None:
    from zp_hf.fitness import metric_function

    if not scored:
        print("score: no row has a label (give --target COLUMN)", file=sys.stderr)
        return
    value = metric_function(metric, plugins["metrics"])([p for p, _ in scored], [t for _, t in scored])
    note = "" if len(scored) == written else f" ({written - len(scored)} rows without a label left out)"
    print(f"score: {metric} {value:.4f} on {len(scored)} rows{note}", file=sys.stderr)
