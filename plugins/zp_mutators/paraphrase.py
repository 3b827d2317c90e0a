"""``ptm_paraphrase`` (PTMs): a pretrained LM rewords the prompt, the paper's third g_GPS.

ZeroPrompt (Wu et al. 2022, Section 3.3), "inspired by DINO (Schick & Schütze
2021, "Generating Datasets with Pretrained Language Models"), directly uses a
large PTM to generate similar prompts". DINO asks a model in natural language for
a text that "means the same thing" and samples with top-p; so does this operator,
with few-shot examples (which raised the yield of the weak SmolLM2-135M several
fold, docs/mutators.md) and a chat template when the model has one.

Two units of rewriting:

* ``prompt``: the whole template, its slots shown as they are and required back;
* ``sentence``: one slot-free stretch of the template (drawn with ``rng``), the
  rest kept: slots cannot be lost, which suits weak models;
* ``auto`` (default): ``prompt`` first, then ``sentence`` for the parents that got
  no valid child (one more batched round).

A prompt with marked spans is always reworded by ``sentence``, its stretches drawn
from editable text only: the model never sees the fixed text (nor the marks), so it
cannot change it.

Every sample is cleaned (chatter, quotes, numbering) and filtered (slots, copies,
length; :mod:`zp_mutators.cleanup`); ``stats`` counts the verdicts.
"""

from __future__ import annotations

import random
from typing import Any, Literal, Mapping, Sequence

from zp_evolve.cjk import has_cjk
from zp_evolve.errors import ConfigError
from zp_evolve.prompts import normalize, placeholders
from zp_evolve.spans import Span, SpanLists, is_marked
from zp_evolve.tasks import Task
from zp_mutators.cleanup import CandidateFilter, clean_generation, is_question
from zp_mutators.models import seeded_torch, shared_model
from zp_mutators.segments import stretches, tokenize_spans

Unit = Literal["prompt", "sentence", "auto"]

PROMPT_INSTRUCTION = {
    "en": (
        "You rewrite prompt templates with new wording and the same meaning. Keep each placeholder such as "
        "[X], [X1], [X2] and the answer blank _ exactly once. Reply with the rewritten template only."
    ),
    "zh": "请用不同的措辞改写提示模板，意思不变。[X]、[X1]、[X2] 等占位符和答案空位 _ 各保留一次。只回复改写后的模板。",
}
PROMPT_SHOTS = {
    "en": (
        ("Topic of this article: [X] Answer: _", "What is this article about? [X] Answer: _"),
        ("Premise: [X1] Hypothesis: [X2] Is the hypothesis true? _", "Given that [X1], is it true that [X2]? _"),
        ("[X] Overall, the product is _ .", "[X] In short, I found the product _ ."),
    ),
    "zh": (
        ("文章：[X] 主题：_", "这篇文章讲的是什么？[X] 回答：_"),
        ("前提：[X1] 假设：[X2] 假设成立吗？_", "已知[X1]，那么[X2]是真的吗？_"),
        ("[X] 总的来说，这个产品_。", "[X] 简而言之，我觉得这个产品_。"),
    ),
}
# Quoting the phrase marks it as text to reword, not a request to follow: without
# quotes SmolLM2 answered "Write the title of the paper..." with a title.
SENTENCE_INSTRUCTION = {
    "en": (
        "Paraphrase the quoted text: same meaning, different words. It is part of an instruction: "
        "do not follow it or answer it. Reply with the paraphrase in quotes."
    ),
    "zh": "请改写引号中的文字：意思相同，措辞不同。它是指令的一部分：不要执行或回答它。只用引号回复改写结果。",
}
# Questions get question examples and statements statement examples: with a mixed
# set, SmolLM2 answered 20 of 48 sampled rewrites of the Rotten Tomatoes questions.
SENTENCE_SHOTS = {
    "en": (
        ("Read the text and pick the right label.", "Read the text, then choose the correct label."),
        ("All in all, the product was", "Overall, the product was"),
        ("The following sentence comes from a news article.", "This sentence is taken from a news story."),
    ),
    "zh": (
        ("阅读文本并选择正确的标签。", "读完文本后，选出正确的标签。"),
        ("总的来说，这个产品", "整体而言，这个产品"),
        ("下面这句话来自一篇新闻。", "这句话摘自一则新闻报道。"),
    ),
}
QUESTION_SHOTS = {
    "en": (
        ("Is this article about sports?", "Does this article talk about sports?"),
        ("What is the topic of the following text?", "What is the following text about?"),
        ("How does the author feel about the product?", "What does the writer think of the product?"),
    ),
    "zh": (
        ("这篇文章是关于体育的吗？", "这篇文章讲的是体育吗？"),
        ("下面这段文字的主题是什么？", "下面这段文字讲的是什么？"),
        ("作者对这个产品有什么看法？", "作者觉得这个产品怎么样？"),
    ),
}


class PTMParaphrase:
    """A causal LM paraphrases prompts (PTMs in the paper, DINO-style instructions).

    Args:
        model: a causal LM by packaged alias (``smollm2-135m-instruct``), local folder or hub id.
        unit: ``prompt``, ``sentence`` or ``auto`` (see the module docs).
        few_shot: worked examples shown before each request (0 to 3).
        candidates: samples drawn per parent and round, before filtering.
        temperature: sampling temperature.
        top_p: nucleus mass.
        max_new_tokens: cap on each sample's length.
        min_ratio: drop samples with fewer content words than this share of the original's.
        max_ratio: drop samples with more than this multiple of the original's.
        drop_answers: drop a sample that turns a question into a statement (the model answered it).
        min_overlap: content words a sample must share with an original of three or more
            (drops answers and hallucinations; 0 turns it off).
        chat: use the tokenizer's chat template (None: whenever it has one). Off by default:
            SmolLM2-135M-Instruct kept about twice as many samples with a plain few-shot page
            as with its chat template (docs/mutators.md).
        children: offspring per parent entry.
        batch_size: sequences per generate() call.
        dtype: model dtype.
        device: ``cpu`` or ``cuda``.
        server: sample from an OpenAI-compatible server instead of local weights:
            ``{base_url, model, api_key_env, timeout, retry_seconds, concurrency}``
            (:class:`zp_openai.generation.ServedGenerator`); ``model`` above is then unused.
    """

    def __init__(
        self,
        model: str = "smollm2-135m-instruct",
        unit: Unit = "auto",
        few_shot: int = 3,
        candidates: int = 4,
        temperature: float = 0.7,
        top_p: float = 0.9,
        max_new_tokens: int = 48,
        min_ratio: float = 0.5,
        max_ratio: float = 2.0,
        drop_answers: bool = True,
        min_overlap: int = 1,
        chat: bool | None = False,
        children: int = 1,
        batch_size: int = 32,
        dtype: Literal["fp32", "bf16", "fp16"] = "fp32",
        device: str = "cpu",
        server: Mapping[str, Any] | None = None,
    ) -> None:
        if unit not in ("prompt", "sentence", "auto"):
            raise ConfigError(f"ptm_paraphrase: unit must be 'prompt', 'sentence' or 'auto', got {unit!r}")
        if not 0 <= few_shot <= 3:
            raise ConfigError(f"ptm_paraphrase: few_shot must be 0..3 (built-in examples), got {few_shot}")
        if min(candidates, max_new_tokens, children, batch_size) < 1 or temperature <= 0 or not 0 < top_p <= 1:
            raise ConfigError("ptm_paraphrase: candidates, max_new_tokens, children, batch_size >= 1; temperature > 0; top_p in (0, 1]")
        self.model = model
        self.unit = unit
        self.few_shot = few_shot
        self.candidates = candidates
        self.temperature = temperature
        self.top_p = top_p
        self.max_new_tokens = max_new_tokens
        self.chat = chat
        self.children = children
        self.batch_size = batch_size
        self.dtype = dtype
        self.device = device
        self.server = dict(server) if server else None
        if self.server is not None:
            from zp_openai.generation import check_server

            check_server(self.server, "ptm_paraphrase")
        self._served: Any = None
        shots = [after for table in (PROMPT_SHOTS, SENTENCE_SHOTS, QUESTION_SHOTS) for pairs in table.values() for _, after in pairs]
        self.filter = CandidateFilter(min_ratio, max_ratio, avoid=shots, drop_answers=drop_answers, min_overlap=min_overlap)

    @property
    def stats(self) -> dict[str, object]:
        """Verdicts on every sample so far: kept, or dropped by reason, and the yield."""
        return self.filter.summary()

    def mutate(
        self, parents: Sequence[str], *, rng: random.Random, task: Task | None = None, spans: SpanLists | None = None
    ) -> list[list[str]]:
        """Children per parent; each round is one batched sampling pass over all parents in need.

        A parent whose ``spans`` hold fixed text is reworded by sentence, in its editable spans only.
        """
        kids: list[list[str]] = [[] for _ in parents]
        pieces: list[Sequence[Span] | None] = [spans[i] if spans else None for i in range(len(parents))]
        marked = [p is not None and is_marked(p) for p in pieces]
        # the engine repeats a parent once per child slot: its entries share what was taken
        used: dict[str, set[str]] = {normalize(p): {normalize(p)} for p in parents}
        units = ["prompt", "sentence"] if self.unit == "auto" else [self.unit]
        if any(marked) and "sentence" not in units:
            units.append("sentence")
        for unit in units:
            todo = [i for i in range(len(parents)) if len(kids[i]) < self.children and (unit == "sentence" or not marked[i])]
            if not todo:
                continue
            if unit == "prompt":
                found = self._prompt_round([parents[i] for i in todo], rng)
            else:
                found = self._sentence_round([parents[i] for i in todo], rng, [pieces[i] for i in todo])
            for i, options in zip(todo, found):
                taken = used[normalize(parents[i])]
                fresh = list({normalize(o): o for o in reversed(options) if normalize(o) not in taken}.values())[::-1]
                chosen = rng.sample(fresh, min(len(fresh), self.children - len(kids[i])))
                taken.update(normalize(c) for c in chosen)
                kids[i].extend(chosen)
        return kids

    def _prompt_round(self, parents: Sequence[str], rng: random.Random) -> list[list[str]]:
        requests = [self._request(p, PROMPT_INSTRUCTION, PROMPT_SHOTS) for p in parents]
        samples = self.generate(requests, rng)
        out = []
        for parent, group in zip(parents, samples):
            required = tuple(dict.fromkeys(placeholders(parent)))
            cleaned = [clean_generation(s) for s in group]
            out.append([c for c in cleaned if self.filter.keep(c, parent, required)])
        return out

    def _sentence_round(
        self, parents: Sequence[str], rng: random.Random, pieces: Sequence[Sequence[Span] | None] = ()
    ) -> list[list[str]]:
        picks: list[tuple[str, str, str] | None] = []
        for index, parent in enumerate(parents):
            tokens = tokenize_spans(parent, pieces[index] if index < len(pieces) else None)
            spans = stretches(tokens)
            if not spans:
                picks.append(None)
                continue
            # A one-word label such as "Title:" invites an answer ("Title: The Product")
            # rather than a paraphrase: prefer stretches of two words or more.
            wordy = [(a, b) for a, b in spans if sum(t.kind == "word" for t in tokens[a:b]) >= 2]
            spans = wordy or spans
            # longer stretches carry more wording to vary: draw in proportion to length
            start, end = rng.choices(spans, weights=[b - a for a, b in spans], k=1)[0]
            text = lambda part: "".join(t.text for t in part)  # noqa: E731
            picks.append((text(tokens[:start]), text(tokens[start:end]), text(tokens[end:])))
        asked = [p for p in picks if p is not None]
        requests = [
            self._request(p[1], SENTENCE_INSTRUCTION, QUESTION_SHOTS if is_question(p[1]) else SENTENCE_SHOTS, quote=True)
            for p in asked
        ]
        samples = iter(self.generate(requests, rng))
        out: list[list[str]] = []
        for pick in picks:
            if pick is None:
                out.append([])
                continue
            before, original, after = pick
            kept = []
            for sample in next(samples):
                cleaned = clean_generation(sample)
                # the stretch is slot-free, so any slot in the sample would be one too many (required=None)
                if self.filter.keep(cleaned, original):
                    kept.append(" ".join(f"{before}{cleaned}{after}".split()))  # the stretch kept no edge spaces
            out.append(kept)
        return out

    def _request(
        self, text: str, instructions: dict[str, str], shots: dict[str, tuple[tuple[str, str], ...]], quote: bool = False
    ) -> Any:
        """The model input for rewording ``text``: chat turns with examples, or a plain few-shot page
        (a served model's chat turns go to its chat endpoint as messages)."""
        language = "zh" if has_cjk(text) else "en"
        examples = shots[language][: self.few_shot]
        if quote:
            marks = ("“", "”") if language == "zh" else ('"', '"')
            text = f"{marks[0]}{text}{marks[1]}"
            examples = tuple((f"{marks[0]}{a}{marks[1]}", f"{marks[0]}{b}{marks[1]}") for a, b in examples)
        if self.server is not None:
            tokenizer, use_chat = None, bool(self.chat)
        else:
            _, tokenizer = self._model()
            use_chat = self.chat if self.chat is not None else bool(getattr(tokenizer, "chat_template", None))
        if use_chat:
            messages = [{"role": "system", "content": instructions[language]}]
            for before, after in examples:
                messages += [{"role": "user", "content": before}, {"role": "assistant", "content": after}]
            messages.append({"role": "user", "content": text})
            if tokenizer is None:
                return messages
            return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        page = [instructions[language], ""]
        for before, after in examples:
            page += [f"Original: {before}", f"Rewritten: {after}", ""]
        page += [f"Original: {text}", "Rewritten:"]
        return "\n".join(page)

    def _model(self) -> tuple[Any, Any]:
        return shared_model("causal", self.model, dtype=self.dtype, device=self.device)

    def generate(self, requests: Sequence[str], rng: random.Random) -> list[list[str]]:
        """``candidates`` samples per request, batched, each stopping at the end of its first line."""
        if self.server is not None:
            if self._served is None:
                from zp_openai.generation import ServedGenerator

                self._served = ServedGenerator.from_config(self.server, "ptm_paraphrase")
            return self._served.sample(
                requests, rng, candidates=self.candidates, temperature=self.temperature, top_p=self.top_p,
                max_tokens=self.max_new_tokens,
            )  # fmt: skip
        import torch

        model, tokenizer = self._model()
        order = sorted(range(len(requests)), key=lambda i: len(requests[i]))  # similar lengths pad less
        per_batch = max(1, self.batch_size // self.candidates)
        tokenizer.padding_side = "left"  # decoder-only models continue from the right end
        results: dict[int, list[str]] = {}
        with torch.inference_mode(), seeded_torch(rng):
            for start in range(0, len(order), per_batch):
                chunk = order[start : start + per_batch]
                encoded = tokenizer([requests[i] for i in chunk], return_tensors="pt", padding=True).to(model.device)
                generated = model.generate(
                    **encoded,
                    do_sample=True,
                    temperature=self.temperature,
                    top_p=self.top_p,
                    top_k=0,
                    max_new_tokens=self.max_new_tokens,
                    num_return_sequences=self.candidates,
                    pad_token_id=tokenizer.pad_token_id,
                    eos_token_id=line_end_ids(tokenizer),
                )
                texts = tokenizer.batch_decode(generated[:, encoded["input_ids"].shape[1] :], skip_special_tokens=True)
                for k, i in enumerate(chunk):
                    results[i] = texts[k * self.candidates : (k + 1) * self.candidates]
        return [results[i] for i in range(len(requests))]


_LINE_ENDS: dict[int, list[int]] = {}


def line_end_ids(tokenizer: Any) -> list[int]:
    """The end-of-text token plus every token holding a newline: only a sample's first line is used.

    Stopping on these ids costs nothing per step, unlike ``stop_strings`` (slower here
    on a busy CPU), and spares the model from writing the chatter that follows.
    """
    key = id(tokenizer)
    if key not in _LINE_ENDS:
        pieces = tokenizer.batch_decode([[i] for i in range(len(tokenizer))])
        ids = [i for i, piece in enumerate(pieces) if "\n" in piece]
        if tokenizer.eos_token_id is not None:
            ids.insert(0, tokenizer.eos_token_id)
        _LINE_ENDS[key] = ids
    return _LINE_ENDS[key]
