"""The run configuration schema (what a YAML file may say).

Component entries (``model``, ``fitness``, ``mutators``, ``executor``, task
providers) are open mappings here; their options are checked against the
registered plugin's signature by :mod:`zp_evolve.config`.
"""

from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from zp_evolve.splits import SplitSelection
from zp_evolve.tasks import unique_task_names

ComponentSpec = dict[str, Any]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class DevConfig(_Strict):
    """Dev-set sampling (paper section 4.3.2)."""

    size: int = Field(32, ge=1, description="examples when a task has few labels or is generative")
    per_label: int = Field(8, ge=1, description="examples per label for tasks with many labels")
    max_labels_for_fixed_size: int = Field(5, ge=1)
    stratify: Literal["auto", "none"] = Field(
        "auto", description="auto: every label of a classification task gets a share of 'size'; none: the paper's random draw"
    )
    min_per_label: int = Field(4, ge=1, description="with stratify: auto, the examples each label gets first")


class TestConfig(_Strict):
    """Scoring of the final prompts on each task's test split."""

    enabled: bool = True
    max_examples: int = Field(200, ge=0, description="0 means the whole test split")
    seed: Optional[int] = Field(
        None, description="seed of the test sample; default: the run's seed. Fix it to compare seeds on one sample "
        "(the handcrafted prompts' test scores are then shared by every seed through the cache)",
    )
    prompts: Literal["top_k", "answer"] = Field(
        "top_k", description="score the whole top K on test, or only the answer's prompt(s) (with G0 either way)"
    )


class TasksConfig(_Strict):
    providers: list[ComponentSpec] = Field(
        min_length=1, description="task providers; default: the one a plugin registers as default (packaged)"
    )
    names: list[str] = Field(default_factory=list, description="tasks by name; added to those of 'split'")
    split: Optional[SplitSelection] = Field(None, description="tasks from a task-split file")
    prompts: dict[str, list[str]] = Field(
        default_factory=dict, description="replace a task's handcrafted prompts (G0)"
    )
    dev: DevConfig = Field(default_factory=DevConfig)
    test: TestConfig = Field(default_factory=TestConfig)

    @field_validator("names")
    @classmethod
    def _unique(cls, names: list[str]) -> list[str]:
        return unique_task_names(names)

    @model_validator(mode="after")
    def _some_tasks(self) -> "TasksConfig":
        if not self.names and self.split is None:
            raise ValueError("name the tasks: give names: [...] or split: {file: ..., use: test}")
        return self


class BudgetConfig(_Strict):
    """Caps on what a search may spend; it stops cleanly at the first one reached."""

    evaluations: Optional[int] = Field(
        None, ge=1, description="scored (prompt, dev example) pairs, cache hits not counted; test scoring is extra"
    )
    seconds: Optional[float] = Field(None, gt=0, description="wall-clock seconds of searching after the models load, checked before each generation after G0")


class SearchConfig(_Strict):
    """Genetic Prompt Search (Algorithm 1). G0 .. G^T are scored, T = ``generations``."""

    generations: int = Field(4, ge=0, description="T: generations bred after G0")
    top_k: int = Field(4, ge=1, description="K: size of the reproductive group and of the answer")
    children_per_parent: int = Field(2, ge=1)
    max_prompt_chars: int = Field(400, ge=8, description="offspring longer than this are rejected")
    patience: Optional[int] = Field(None, ge=1, description="stop after this many generations without a better top K")
    budget: BudgetConfig = Field(default_factory=BudgetConfig)
    objectives: list[str] = Field(
        default_factory=lambda: ["metric"],
        description="metric, then optional registered objectives (length, fluency, ...): parents by NSGA-II",
    )

    @field_validator("objectives")
    @classmethod
    def _metric_first(cls, names: list[str]) -> list[str]:
        if not names or names[0] != "metric":
            raise ValueError("objectives start with 'metric' (the task metric), e.g. [metric, length]")
        if len(set(names)) != len(names):
            raise ValueError(f"objectives repeat: {names}")
        return names


#: members of the default ensemble answer: the size issue 22 measured (docs/results.md)
DEFAULT_ENSEMBLE_SIZE = 3


class SelectionConfig(_Strict):
    """How prompts are judged on a tiny dev set (docs/gps.md, "Selection"). The defaults
    breed and choose on the metric over all of dev, as the paper's Algorithm 1 does, and answer
    with the top three prompts as one predictor: the winner on test in issue 22's measurement
    (docs/results.md). ``answer: best`` is the paper's answer, the single best prompt."""

    holdout: float = Field(
        0.0, ge=0.0, description="dev examples kept out of breeding to rank the final prompts: a share (0-1) or a count"
    )
    rank_on: Literal["holdout", "dev_debiased"] = Field(
        "holdout",
        description="with holdout: rank the final pool on the held-out part, or on all of dev minus the breeding part's optimism",
    )
    pool: Optional[int] = Field(
        None, ge=1, description="with holdout: how many of the best prompts (on the breeding part) are ranked; default top_k"
    )
    lcb: float = Field(
        0.0, ge=0.0, description="fitness = metric - lcb * its bootstrap standard error over dev examples (0: the plain metric)"
    )
    resamples: int = Field(200, ge=10, description="bootstrap resamples for lcb")
    answer: Literal["best", "ensemble"] = Field(
        "ensemble",
        description="the answer: the top prompts as one predictor (classification tasks; others get the best), "
        "or the best prompt (the paper's Algorithm 1)",
    )
    ensemble_size: Optional[int] = Field(
        None, ge=1, description=f"members of the ensemble answer; default {DEFAULT_ENSEMBLE_SIZE}"
    )

    @property
    def members(self) -> int:
        """How many prompts the answer holds: the ensemble's size, or 1."""
        return (self.ensemble_size or DEFAULT_ENSEMBLE_SIZE) if self.answer == "ensemble" else 1
    beat_manual: float = Field(
        0.0, ge=0.0, lt=1.0,
        description="answer with the search's choice only where paired dev resamples put it above the best handcrafted "
        "prompt this often (e.g. 0.9); elsewhere answer with that prompt (0: off)",
    )

    @field_validator("holdout")
    @classmethod
    def _holdout_size(cls, value: float) -> float:
        if value >= 1 and value != int(value):
            raise ValueError("holdout is a share between 0 and 1, or a whole number of examples")
        return value


class CacheConfig(_Strict):
    dir: Optional[str] = Field(None, description="folder for a fitness cache shared across runs")
    mutations: bool = Field(True, description="also keep each mutator call's children (same parents, task and seed: same children)")


class RunConfig(_Strict):
    job: Literal["gps"] = "gps"
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    seed: int = 0
    output_dir: str = "runs"
    tasks: TasksConfig
    model: Optional[ComponentSpec] = None
    fitness: ComponentSpec = Field(description="default: the fitness a plugin registers as default (dev_metric)")
    search: SearchConfig = Field(default_factory=SearchConfig)
    selection: SelectionConfig = Field(default_factory=SelectionConfig)
    mutators: list[ComponentSpec] = Field(min_length=1)
    executor: ComponentSpec = Field(description="default: the executor a plugin registers as default (serial)")
    cache: CacheConfig = Field(default_factory=CacheConfig)
