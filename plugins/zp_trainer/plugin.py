"""Hook implementations of the zp_trainer built-in plugin: its jobs, commands and report sections.

Nothing here imports torch; the jobs import it when they run.
"""

from __future__ import annotations

from zp_evolve import hookimpl
from zp_trainer.report import zp_report_sections, zp_summary_scores  # noqa: F401  (hook implementations)


@hookimpl
def zp_register_jobs(register):
    from zp_trainer import jobs

    register("train", jobs.TrainJob, description="multitask prompted training of a generalist (hybrid prompt E+V+D, MLM loss)")
    register("eval", jobs.EvalJob, description="zero-shot evaluation on held-out tasks: per task and All/Seen/Unseen")
    register("train_eval", jobs.TrainEvalJob, description="train, then evaluate the checkpoint zero-shot")
    register("pretrain", jobs.PretrainJob, description="pretrain a small T5 from scratch (sentencepiece, span corruption)")


@hookimpl
def zp_register_commands(register):
    from zp_trainer import commands

    register("train", commands.train_command, add_arguments=commands.arguments,
             help="train a generalist from a YAML config (job: train, train_eval or pretrain)")
    register("eval", commands.eval_command, add_arguments=commands.arguments,
             help="zero-shot evaluation of a model or checkpoint on held-out tasks")
