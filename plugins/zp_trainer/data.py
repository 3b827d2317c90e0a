"""The training mixture and the held-out tasks, from a task catalog and a task-split file.

Training examples follow the paper: 128 per class, 256 per generation task (section
3.2, :func:`zp_evolve.sampling.sample_train`), drawn from non-test splits only, and
decontaminated (appendix A.1.3): an example sharing a 30-gram with any example of a
held-out test task is dropped. The unlabelled texts of the auxiliary MLM loss are the
training tasks' inputs, under the same filter.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any, Sequence

from zp_evolve.catalog import TaskCatalog
from zp_evolve.errors import DataError
from zp_evolve.sampling import TrainRule, sample_train, task_rng
from zp_evolve.tasks import Example, Task
from zp_trainer.mixture import TrainingTask
from zp_trainer.schema import TaskSelection, TrainTasks

#: Unlabelled texts per training task for the MLM loss, at most.
MLM_TEXTS_PER_TASK = 2000


@dataclass
class TrainingData:
    tasks: list[TrainingTask]
    mlm_texts: list[str]
    test_tasks: list[str] = field(default_factory=list)
    mlm_dropped: int = 0

    def report(self) -> dict[str, Any]:
        return {
            "tasks": [
                {
                    "name": t.task.name,
                    "type": t.task.type,
                    "language": t.task.language,
                    "kind": t.task.kind,
                    "examples": len(t.examples),
                    "dropped_by_decontamination": t.dropped,
                }
                for t in self.tasks
            ],
            "examples": sum(len(t.examples) for t in self.tasks),
            "dropped_by_decontamination": sum(t.dropped for t in self.tasks),
            "decontaminated_against": self.test_tasks,
            "mlm_texts": len(self.mlm_texts),
            "mlm_texts_dropped": self.mlm_dropped,
        }


def split_names(selection: TaskSelection, side: str) -> list[str]:
    """Task names of one side of the selection's split file."""
    from zp_evolve import splits

    assert selection.split is not None
    use = selection.split.use or side
    return list(splits.split_task_names(selection.split.file, use, types=selection.split.types or None))


def select_tasks(catalog: TaskCatalog, selection: TaskSelection, *, side: str, seed: int) -> list[Task]:
    """The tasks a selection names, filtered by type and language, at most ``limit``."""
    names = list(selection.names)
    if selection.split is not None:
        from_split = split_names(selection, side)
        if selection.split.limit is not None and len(from_split) > selection.split.limit:
            from_split = sorted(task_rng(seed, "split", "limit").sample(sorted(from_split), selection.split.limit))
        names += [n for n in from_split if n not in names]
    unknown = [n for n in names if n not in catalog]
    if unknown:
        raise DataError("; ".join(catalog.unknown_message(n) for n in unknown))
    tasks = [catalog.get(n) for n in names]
    if selection.types:
        tasks = [t for t in tasks if t.type in selection.types]
    if selection.languages:
        tasks = [t for t in tasks if t.language in selection.languages]
    if selection.limit is not None and len(tasks) > selection.limit:
        chosen = set(task_rng(seed, "tasks", "limit").sample(sorted(t.name for t in tasks), selection.limit))
        tasks = [t for t in tasks if t.name in chosen]
    if not tasks:
        raise DataError("the task selection is empty after filtering by types/languages; widen it")
    return tasks


def test_task_names(catalog: TaskCatalog, config: TrainTasks, seed: int) -> list[str]:
    """Held-out tasks the training data is decontaminated against."""
    if config.test_tasks is not None:
        return [t.name for t in select_tasks(catalog, config.test_tasks, side="test", seed=seed)]
    if config.split is not None:
        return [n for n in split_names(config, "test") if n in catalog]
    return []


def _decontaminator(catalog: TaskCatalog, test_tasks: Sequence[str], seed: int) -> Any:
    from zp_evolve.decontamination import Decontaminator

    return Decontaminator.from_tasks(catalog, test_tasks, seed=seed)


def build_training_data(
    catalog: TaskCatalog, config: TrainTasks, *, seed: int, with_mlm: bool = True
) -> TrainingData:
    """Sample, decontaminate and collect the training mixture and the MLM texts."""
    tasks = select_tasks(catalog, config, side="train", seed=seed)
    tests = test_task_names(catalog, config, seed) if config.decontaminate else []
    overlap = sorted({t.name for t in tasks} & set(tests))
    if overlap:
        raise DataError(f"task(s) {overlap} are both training and held-out test tasks; fix the task selection")
    cleaner = _decontaminator(catalog, tests, seed) if tests else None
    rule = TrainRule(per_class=config.per_class, per_generation_task=config.per_generation_task)
    training: list[TrainingTask] = []
    texts: list[str] = []
    mlm_dropped = 0
    for task in tasks:
        pool = catalog.eval_pool(task.name)
        dropped = 0
        if cleaner is not None:
            kept = cleaner.clean(pool)
            dropped_pool = len(pool) - len(kept)
            pool = kept
        else:
            dropped_pool = 0
        examples = sample_train(task, pool, seed, rule)
        # Report what the filter removed from what would have been sampled.
        dropped = dropped_pool
        if not examples:
            raise DataError(f"training task {task.name!r} has no training examples left after decontamination")
        training.append(TrainingTask(task=task, examples=tuple(examples), dropped=dropped))
        if with_mlm:
            texts.extend(_texts(task, pool, seed))
    return TrainingData(tasks=training, mlm_texts=_unique(texts), test_tasks=tests, mlm_dropped=mlm_dropped)


def _texts(task: Task, pool: Sequence[Example], seed: int) -> list[str]:
    rng = task_rng(seed, task.name, "mlm")
    chosen = rng.sample(list(pool), min(MLM_TEXTS_PER_TASK, len(pool)))
    return [str(v).strip() for e in chosen for v in e.inputs.values() if str(v).strip()]


def _unique(texts: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    return [t for t in texts if not (t in seen or seen.add(t))]


def close_names(name: str, names: Sequence[str]) -> list[str]:
    return difflib.get_close_matches(name, list(names), n=3, cutoff=0.6)
