"""From (task, prompt template, example) to the text a model reads and the answers it scores.

The hard part of the hybrid prompt comes from core (:func:`zp_evolve.prompts.assemble`):
V (the candidates, placed as :mod:`zp_hf.placement` says) + D (the template with the inputs filled in), split at
the blank into ``prefix`` and ``suffix``. This module decides how each model family
sees the blank; the trainer uses the same functions, so training and scoring agree.

**Causal LMs** read left to right, so text after the blank cannot condition the answer
unless it is shown first. For a prefix prompt (nothing but punctuation after the
blank) the answer is scored right after the prefix. For a cloze prompt the whole
template is shown with the blank as a visible ``___``, followed by a short answer cue
(``"\\nAnswer:"``), and the answer is scored after the cue. Either way the context is
the same for every candidate, so one forward pass of the context gives the score of
every single-token candidate at its last position (the fast path: one forward per
example, not per candidate), and every word of the prompt, after the blank too, can
change the fitness (what GPS mutates). Scoring the full sentence ``prefix + answer +
suffix`` instead would need one forward per candidate.

**T5-style models** are trained on span infilling, so the blank becomes the sentinel
``<extra_id_0>`` inside the full text and the target is ``<extra_id_0> answer``; models
without sentinels use their mask token (or ``___``) and the bare answer as target.

Only the answer's tokens are scored (no end token), for both families.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from zp_evolve.prompts import AssembledPrompt, assemble
from zp_evolve.tasks import Example, Task
from zp_hf.placement import VerbalizerSetting, place, placement

#: Languages written without spaces between words.
NO_SPACE_LANGUAGES = ("zh", "ja", "th")
ANSWER_CUES = {"en": "Answer:", "zh": "答案：", "ja": "答え："}
VISIBLE_BLANK = "___"
T5_SENTINEL = "<extra_id_0>"


@dataclass(frozen=True)
class PredictItem:
    """One example under one prompt template of one task."""

    task: Task
    template: str
    example: Example


@dataclass(frozen=True)
class Query:
    """What a backend scores or generates for: the assembled prompt and the answer options.

    ``keys`` name the predictions (task labels, or a multiple-choice example's options);
    ``candidates`` are the texts scored for them (verbalizers, or the options). Both
    are empty for generation tasks.
    """

    task: str
    language: str
    prompt: AssembledPrompt
    keys: tuple[str, ...] = ()
    candidates: tuple[str, ...] = ()
    template: str = ""  # the prompt template, so rows of one prompt can be batched together

    @property
    def is_generation(self) -> bool:
        return not self.candidates


def bare_template(input_fields: Sequence[str]) -> str:
    """The prompt with no task description (D off): the inputs, then the blank."""
    return "\n".join([*(f"[{name}]" for name in input_fields), "_"])


def answer_options(task: Task, example: Example, template: str = "") -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(keys, candidate texts)``: labels and their words under ``template`` (its own answer
    choices, else the task's verbalizers), or a multiple-choice example's options."""
    if task.multiple_choice or example.candidates:
        return tuple(example.candidates), tuple(example.candidates)
    if task.labels:
        return tuple(task.labels), task.answer_words(template)
    return (), ()


def make_query(
    item: PredictItem, *, use_verbalizers: VerbalizerSetting | None = True, use_description: bool = True,
    max_input_chars: int = 0, cut: Callable[[str], str] | None = None,
) -> Query:
    """Assemble V + D around the blank for one item (E is the backend's business).

    ``use_verbalizers`` says where V goes (:mod:`zp_hf.placement`: ``before``, ``none``,
    ``after_input``, ``answer_format``; ``True``/``False`` are ``before``/``none``). Each input
    field is cut to ``max_input_chars`` characters, then by ``cut`` (the backend's token
    bound), before the prompt is assembled.
    """
    task, example = item.task, item.example
    keys, candidates = answer_options(task, example, item.template)
    template = item.template if use_description else bare_template(task.input_fields)
    inputs = dict(example.inputs)
    if max_input_chars > 0:
        inputs = {name: text[:max_input_chars] for name, text in inputs.items()}
    if cut is not None:
        inputs = {name: cut(text) for name, text in inputs.items()}
    where = placement(use_verbalizers)
    prompt = assemble(template, inputs, candidates=candidates, language=task.language, use_verbalizers=where == "before")
    prompt = place(prompt, where, template=template, inputs=inputs, candidates=candidates, language=task.language)
    return Query(task=task.name, language=task.language, prompt=prompt, keys=keys, candidates=candidates, template=template)


def _no_space(language: str) -> bool:
    return language.split("-")[0] in NO_SPACE_LANGUAGES


def causal_context(prompt: AssembledPrompt, language: str) -> str:
    """The text a causal LM reads before the answer (see the module docstring)."""
    if not prompt.is_cloze:
        return prompt.prefix.rstrip(" \t")
    cue = ANSWER_CUES.get(language.split("-")[0], ANSWER_CUES["en"])
    return f"{prompt.prefix}{VISIBLE_BLANK}{prompt.suffix.rstrip()}\n{cue}"


def causal_answer(context: str, answer: str, language: str) -> str:
    """The answer as it continues ``context``: with a leading space where words need one."""
    answer = answer.strip()
    if _no_space(language) or not context or context[-1].isspace():
        return answer
    return " " + answer


def seq2seq_source(prompt: AssembledPrompt, blank: str) -> str:
    """Encoder text: the whole prompt with the blank replaced by ``blank`` (a sentinel)."""
    return f"{prompt.prefix}{blank}{prompt.suffix}"


def seq2seq_answer(answer: str, language: str) -> str:
    """The answer text after the sentinel (T5's tokenizer adds the word boundary itself)."""
    del language  # sentencepiece marks word starts itself; kept for symmetry with causal_answer
    return answer.strip()
