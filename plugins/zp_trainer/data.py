"""The training mixture and the held-out tasks, from a task catalog and a task-split file.

Training examples follow the paper: 128 per class, 256 per generation task (section
3.2, :func:`zp_evolve.sampling.sample_train`), drawn from non-test splits only, and
decontaminated (appendix A.1.3): an example sharing a 30-gram with any example of a
held-out test task is dropped. The unlabelled texts of the auxiliary MLM loss are the
training tasks' inputs, under the same filter.
"""

from __future__ import annotations

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


def split_names(selection: TaskSelection, side: str, catalog: TaskCatalog, seed: int) -> list[str]:
    """Task names of one side of the selection's split file (patterns expanded, seeded limit)."""
    return selection.split.names(side, catalog=catalog, seed=seed) if selection.split is not None else []


def select_tasks(catalog: TaskCatalog, selection: TaskSelection, *, side: str, seed: int) -> list[Task]:
    """The tasks a selection names, filtered by type and language, at most ``limit``."""
    names = list(selection.names)
    names += [n for n in split_names(selection, side, catalog, seed) if n not in names]
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
        from zp_evolve.splits import find_split_file, split_task_names

        return split_task_names(find_split_file(config.split.file), "test", catalog=catalog)
    return []


def build_training_data(
    catalog: TaskCatalog, config: TrainTasks, *, seed: int, with_mlm: bool = True
) -> TrainingData:
    """Sample, decontaminate and collect the training mixture and the MLM texts."""
    from zp_trainer.decontamination import Decontaminator, training_examples

    tasks = select_tasks(catalog, config, side="train", seed=seed)
    tests = test_task_names(catalog, config, seed) if config.decontaminate else []
    overlap = sorted({t.name for t in tasks} & set(tests))
    if overlap:
        raise DataError(f"task(s) {overlap} are both training and held-out test tasks; fix the task selection")
    rule = TrainRule(per_class=config.per_class, per_generation_task=config.per_generation_task)
    index = Decontaminator.from_tasks(catalog, tests, seed=seed) if config.decontaminate else None
    training: list[TrainingTask] = []
    texts: list[str] = []
    mlm_dropped = 0
    for task in tasks:
        if index is not None:
            examples, report = training_examples(catalog, task.name, seed, tests, rule=rule, decontaminator=index)
            dropped = report.dropped
        else:
            examples, dropped = sample_train(task, catalog.eval_pool(task.name), seed, rule), 0
            if not examples:
                raise DataError(f"training task {task.name!r} has no training examples")
        training.append(TrainingTask(task=task, examples=tuple(examples), dropped=dropped))
        if with_mlm:
            candidates = _texts(task, catalog.eval_pool(task.name), seed)
            kept = _clean_texts(index, candidates) if index is not None else candidates
            mlm_dropped += len(candidates) - len(kept)
            texts.extend(kept)
    return TrainingData(tasks=training, mlm_texts=_unique(texts), test_tasks=tests, mlm_dropped=mlm_dropped)


def _texts(task: Task, pool: Sequence[Example], seed: int) -> list[str]:
    rng = task_rng(seed, task.name, "mlm")
    chosen = rng.sample(list(pool), min(MLM_TEXTS_PER_TASK, len(pool)))
    return _unique([str(v).strip() for e in chosen for v in e.inputs.values() if str(v).strip()])


def _clean_texts(index: Any, texts: Sequence[str]) -> list[str]:
    """Unlabelled texts that share no 30-gram with a held-out test example."""
    flags = index.contaminated([Example(inputs={"X": text}, target="") for text in texts])
    return [text for text, bad in zip(texts, flags) if not bad]


def _unique(texts: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    return [t for t in texts if not (t in seen or seen.add(t))]
