"""What a ``train``, ``eval`` or ``train_eval`` YAML file may say (pydantic, extra keys forbidden).

Defaults are the paper's where it gives them (section 4.1.1: Adam, learning rate
3.5e-5, batch 64, 1,500 steps; section 3.2: 128 training examples per class, 256 per
generation task); the rest are ordinary choices, each documented in docs/trainer.md.
A train section's ``recipe`` (:mod:`zp_trainer.recipes`) fills in its preset's values
before these defaults apply; for causal LMs the default recipe is ``causal_transfer``.
"""

from __future__ import annotations

from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from zp_evolve.splits import SplitSelection
from zp_evolve.tasks import unique_task_names
from zp_hf.placement import VerbalizerSetting

ComponentSpec = dict[str, Any]
NAME_PATTERN = r"^[A-Za-z0-9_.-]+$"
UnseenMode = Literal["none", "weighted_all", "weighted_sample", "top1", "random"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class TaskSelection(_Strict):
    """Which tasks: explicit ``names``, or a split file's side, optionally filtered."""

    providers: list[ComponentSpec] = Field(default_factory=lambda: [{"name": "packaged"}])
    split: Optional[SplitSelection] = None
    names: list[str] = Field(default_factory=list)
    types: list[str] = Field(default_factory=list, description="keep only these task types")
    languages: list[str] = Field(default_factory=list, description="keep only these languages (en, zh)")
    limit: Optional[int] = Field(None, ge=1, description="at most this many tasks (a seeded choice)")

    @model_validator(mode="after")
    def _something(self) -> "TaskSelection":
        if not self.names and self.split is None:
            raise ValueError("name the tasks: give names: [...] or split: {file: ...}")
        return self

    @field_validator("names")
    @classmethod
    def _unique(cls, names: list[str]) -> list[str]:
        return unique_task_names(names)


class TrainTasks(TaskSelection):
    per_class: int = Field(128, ge=1, description="training examples per label (paper: 128)")
    per_generation_task: int = Field(256, ge=1, description="training examples per generation task (paper: 256)")
    decontaminate: bool = Field(True, description="drop training examples sharing a 30-gram with a test task's examples")
    test_tasks: Optional[TaskSelection] = Field(
        None, description="tasks to decontaminate against; default: the split file's test side"
    )


class TrainModel(_Strict):
    """The model to train: a packaged alias, a local folder or a hub id."""

    name: str = Field(min_length=1)
    kind: Literal["auto", "seq2seq", "causal"] = Field("auto", description="auto reads config.json")
    dtype: Literal["fp32", "bf16"] = "fp32"
    device: str = "cpu"
    threads: Optional[int] = Field(None, ge=1, description="torch CPU threads (default: torch's choice)")
    autocast: Literal["none", "bf16"] = Field(
        "none", description="bf16: run the forward and backward under bf16 autocast (weights and optimiser stay fp32)"
    )
    gradient_checkpointing: bool = Field(False, description="recompute layer activations in the backward pass")
    checkpoint_every: int = Field(
        1, ge=1, description="with gradient_checkpointing: checkpoint every N-th layer only (less recompute, more memory)"
    )


class LoraSpec(_Strict):
    """LoRA (Hu et al. 2021) through peft: train low-rank deltas of the Linear layers, freeze the rest."""

    r: int = Field(16, ge=1, description="rank of the deltas")
    alpha: float = Field(32.0, gt=0, description="scale: the delta is alpha / r * B @ A")
    dropout: float = Field(0.05, ge=0, lt=1)
    target_modules: Union[Literal["all-linear"], list[str]] = Field(
        "all-linear", description="all-linear (every Linear but the LM head) or module names such as [q_proj, v_proj]"
    )


class HybridPromptConfig(_Strict):
    """T = {E, V, D, X, [MASK]} (paper eq. 2); switch parts off for Table 4's ablations."""

    soft_prompt: bool = Field(True, description="E: a learnable task-specific soft prompt")
    soft_prompt_length: int = Field(8, ge=1, description="n: prefix vectors per task")
    soft_prompt_init_std: float = Field(0.5, gt=0, description="std of E's random init, relative to the embeddings' std")
    verbalizers: VerbalizerSetting = Field(
        True,
        description="V, where the candidates go: none, before (ahead of D), after_input, answer_format; "
        "true and false are before and none",
    )
    description: bool = Field(True, description="D: a handcrafted prompt of the task, sampled per example")
    unseen_init: UnseenMode = Field(
        "random", description="E for tasks without a trained prompt when this checkpoint is evaluated (eval's default mode)"
    )

    @field_validator("verbalizers", mode="before")
    @classmethod
    def _placement(cls, value: Any) -> Any:
        from zp_hf.placement import PLACEMENTS

        if not isinstance(value, bool) and value not in PLACEMENTS:
            raise ValueError(f"{value!r} is not a placement; use one of {', '.join(PLACEMENTS)}, true (before) or false (none)")
        return value


class LossConfig(_Strict):
    """L = lambda * L_sup + L_MLM (paper eq. 5)."""

    sup_weight: float = Field(1.0, ge=0, description="lambda")
    mlm: bool = Field(True, description="add the auxiliary MLM loss (span corruption for T5, LM loss for causal)")
    mlm_batch_size: Optional[int] = Field(None, ge=1, description="unlabelled texts per step (default: batch_size / 4)")
    noise_density: float = Field(0.15, gt=0, lt=1)
    mean_span_length: float = Field(3.0, ge=1)
    mlm_tokens: int = Field(128, ge=8, description="tokens per unlabelled text window")
    answer_only: bool = Field(
        True, description="causal LMs: the supervised loss on the answer tokens only (false: on every prompt token too)"
    )


class OptimConfig(_Strict):
    """AdamW; the paper's Adam settings are the defaults."""

    lr: float = Field(3.5e-5, gt=0)
    soft_prompt_lr: Optional[float] = Field(None, gt=0, description="learning rate of E (default: lr)")
    batch_size: int = Field(64, ge=1, description="supervised examples per optimiser step")
    grad_accum: int = Field(1, ge=1, description="micro-batches per step; batch_size must divide by it")
    steps: int = Field(1500, ge=1)
    weight_decay: float = Field(0.0, ge=0)
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = Field(1e-8, gt=0)
    warmup_steps: int = Field(0, ge=0)
    schedule: Literal["constant", "linear"] = "constant"
    max_grad_norm: Optional[float] = Field(1.0, gt=0, description="clip gradients to this norm (null: no clipping)")

    @model_validator(mode="after")
    def _divisible(self) -> "OptimConfig":
        if self.batch_size % self.grad_accum:
            raise ValueError(f"batch_size ({self.batch_size}) must be a multiple of grad_accum ({self.grad_accum})")
        return self


class MixingConfig(_Strict):
    """How tasks share a batch: in proportion to their size (capped), or uniformly."""

    strategy: Literal["proportional", "uniform"] = "proportional"
    cap: int = Field(3000, ge=1, description="proportional mixing counts a task as at most this many examples")
    language_shares: dict[str, float] = Field(
        default_factory=dict,
        description="share of the draws for these languages, e.g. {zh: 0.2}; the other languages split the rest",
    )

    @field_validator("language_shares")
    @classmethod
    def _shares_in_range(cls, shares: dict[str, float]) -> dict[str, float]:
        bad = {language: share for language, share in shares.items() if not 0.0 < share <= 1.0}
        if bad:
            raise ValueError(f"each language share must be in (0, 1]; got {bad}")
        return shares


class CheckpointConfig(_Strict):
    every: int = Field(500, ge=1, description="save a resumable checkpoint every this many steps")
    keep: int = Field(2, ge=1, description="keep this many step checkpoints (the final one is always kept)")


class TrainSection(_Strict):
    """Everything a training run needs (the ``train`` job's body)."""

    recipe: str = Field(
        "auto", description="a named preset that fills in defaults (zp_trainer.recipes): auto, paper, causal_transfer"
    )
    model: TrainModel
    tasks: TrainTasks
    prompt: HybridPromptConfig = Field(default_factory=HybridPromptConfig)
    loss: LossConfig = Field(default_factory=LossConfig)
    optim: OptimConfig = Field(default_factory=OptimConfig)
    mixing: MixingConfig = Field(default_factory=MixingConfig)
    checkpoint: CheckpointConfig = Field(default_factory=CheckpointConfig)
    max_input_chars: int = Field(2000, ge=0, description="cut each input to this many characters, as the backends do (0: no cut)")
    max_source_tokens: int = Field(512, ge=8, description="token cap of the model input (guards memory)")
    max_target_tokens: int = Field(64, ge=2)
    pack_tokens: Optional[int] = Field(
        None, ge=16, description="causal LMs: pack the examples of a micro-batch into rows of at most this many tokens"
    )
    lora: Optional[LoraSpec] = Field(None, description="train LoRA deltas (and E) instead of every weight")
    log_every: int = Field(10, ge=1, description="steps between loss records")

    @model_validator(mode="before")
    @classmethod
    def _fill_recipe(cls, data: Any) -> Any:
        from zp_trainer.recipes import apply

        return apply(data) if isinstance(data, dict) else data

    @field_validator("recipe")
    @classmethod
    def _known_recipe(cls, name: str) -> str:
        from zp_trainer.recipes import NAMES, unknown_message

        if name not in NAMES:
            raise ValueError(unknown_message(name))
        return name

    @model_validator(mode="after")
    def _rows_fit_the_packs(self) -> "TrainSection":
        if self.pack_tokens is None:
            return self
        soft = self.prompt.soft_prompt_length if self.prompt.soft_prompt else 0
        # A causal row is at most max_source_tokens long (at least one context token and the
        # answer with its end token when the answer alone is longer), plus E in front.
        supervised = max(self.max_source_tokens, self.max_target_tokens + 1) + soft
        longest = max(supervised, self.loss.mlm_tokens + 1 if self.loss.mlm else 0)
        if self.pack_tokens < longest:
            raise ValueError(
                f"pack_tokens ({self.pack_tokens}) must hold the longest row: max_source_tokens + soft_prompt_length "
                f"({supervised}) and mlm_tokens + 1; raise pack_tokens to at least {longest}"
            )
        return self


class JobHeader(_Strict):
    name: str = Field(min_length=1, pattern=NAME_PATTERN)
    description: str = ""
    seed: int = 0
    output_dir: str = "runs"


class TrainConfig(JobHeader, TrainSection):
    job: Literal["train"] = "train"


class ClassifierConfig(_Strict):
    """The task classifier of appendix A.3: logistic regression on sentence embeddings."""

    embedder: str = Field("minilm", description="a sentence encoder: packaged alias, folder or hub id")
    per_task: int = Field(64, ge=2, description="training-task examples per task to fit it on")
    c: float = Field(1.0, gt=0, description="inverse regularisation strength")


class SoftPromptInit(_Strict):
    """E for tasks the checkpoint has no soft prompt for (paper Table 5)."""

    mode: Optional[UnseenMode] = Field(
        None,
        description="none, weighted_all, weighted_sample, top1 or random; "
        "default: the checkpoint's prompt.unseen_init, else random",
    )
    classifier: ClassifierConfig = Field(default_factory=ClassifierConfig)


class EvalTasks(TaskSelection):
    max_examples: int = Field(200, ge=0, description="test examples per task (0: the whole test split)")
    seen_types: Optional[list[str]] = Field(
        None, description="task types seen in training; default: the checkpoint's training tasks' types"
    )


class EvalSection(_Strict):
    """Zero-shot evaluation on held-out tasks (the ``eval`` job's body, less the model)."""

    tasks: EvalTasks
    prompts: Literal["all", "first"] = Field("all", description="score every handcrafted prompt (mean) or the first")
    soft_prompts: SoftPromptInit = Field(default_factory=SoftPromptInit)
    metric: Optional[str] = Field(None, description="a registered metric for every task instead of each task's own")
    backend_options: ComponentSpec = Field(
        default_factory=dict, description="extra backend options (batch_size, dtype, threads...) for train_eval"
    )


class EvalConfig(JobHeader, EvalSection):
    job: Literal["eval"] = "eval"
    model: ComponentSpec = Field(description="a backend entry, e.g. {backend: hf_seq2seq, name: CHECKPOINT}")


class TrainEvalConfig(JobHeader, TrainSection):
    job: Literal["train_eval"] = "train_eval"
    eval: EvalSection
