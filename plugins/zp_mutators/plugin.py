"""Hook implementations of the zp_mutators built-in plugin.

The operator modules import only the standard library and zp_evolve at module
level (torch and transformers load inside methods), so importing them here keeps
``zp-evolve plugins`` fast and torch-free.
"""

from __future__ import annotations

from zp_evolve import hookimpl
from zp_mutators.answer_choices import AnswerChoices, check_task as answer_choices_check
from zp_mutators.back_translation import BackTranslation, check_task as back_translation_check
from zp_mutators.crossover import SentenceCrossover
from zp_mutators.edit import PhraseEdit
from zp_mutators.paraphrase import PTMParaphrase
from zp_mutators.t5_infill import T5Infill


@hookimpl
def zp_register_mutators(register):
    register("back_translation", BackTranslation, check_task=back_translation_check, description="BT: round trips through pivot languages (Apertium or Marian)")
    register("edit", PhraseEdit, description="GrIPS phrase edits: delete, swap, add (model-free)")
    register("crossover", SentenceCrossover, description="sentence-level one-point crossover with a second prompt of the task")
    register("ptm_paraphrase", PTMParaphrase, description="PTMs: a causal LM paraphrases the prompt (DINO-style, few-shot)")
    register("t5_infill", T5Infill, description="LM-BFF: T5 fills masked spans of the prompt (mode partial = LM-BFF†)")
    register("answer_choices", AnswerChoices, check_task=answer_choices_check,
             description="the same template with other answer choices ('template ||| a ||| b'; tasks with fixed labels)")


@hookimpl
def zp_register_commands(register):
    from zp_mutators import commands

    register("mutate", commands.mutate_command, add_arguments=commands.mutate_arguments,
             help="show the offspring mutators make of a task's prompts (with the engine's verdicts)")
