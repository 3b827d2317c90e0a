"""The ``hf_causal`` and ``hf_seq2seq`` model backends.

A backend turns (task, prompt template, example) items into predictions: per-label
log-likelihood scores for classification and multiple-choice tasks (rank
classification over the verbalizers or the example's options), generated text for
generation tasks (NER included: one query per entity type, answer ``"blank"`` when
there is none). The hybrid prompt's switches (E soft prompts, V verbalizers, D the
description) are backend options, so ablations are YAML changes; left unset, V and D are
read from a trained checkpoint's ``training.json`` (so eval and GPS format the query as
training did), else V goes before D and D is on.

This module imports torch only when a backend is built.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Literal, Sequence

from zp_evolve.errors import ModelError
from zp_hf import formatting
from zp_hf.formatting import PredictItem, Query
from zp_hf.placement import VerbalizerSetting, trained_prompt
from zp_hf.settings import PackingSettings, ScorerSettings


class HFBackend(ABC):
    """Shared options and the predict pipeline; subclasses load the model and encode text."""

    family = ""

    def __init__(
        self,
        name: str,
        dtype: Literal["fp32", "bf16", "fp16"] = "fp32",
        device: Literal["cpu", "cuda"] = "cpu",
        quantize: Literal["none", "int8"] = "none",
        threads: int | None = None,
        batch_size: int = 16,
        max_batch_tokens: int | None = None,
        length_normalize: bool = False,
        use_verbalizers: VerbalizerSetting | None = None,
        use_description: bool | None = None,
        soft_prompts: bool | None = None,
        unseen_soft_prompt: Literal["none", "mean", "random"] = "random",
        scoring: Literal["auto", "fast", "packed", "naive"] = "auto",
        max_new_tokens: int = 32,
        num_beams: int = 1,
        max_input_chars: int = 2000,
        max_input_tokens: int = 0,
        compile: bool = False,
        share_prefix: bool = True,
        unpad: bool = True,
        layout: Literal["packed", "padded"] = "packed",
        pack_length: int = 256,
        cuda_graphs: bool = False,
        seed: int = 0,
    ) -> None:
        import torch

        from zp_hf.loading import resolve_model_source

        scoring = resolve_scoring(scoring, device)
        if max_batch_tokens is None:
            # A GPU needs big batches to be busy; the CPU path's matmuls peak far earlier.
            max_batch_tokens = 65536 if scoring == "packed" and device != "cpu" else 8192
        if batch_size < 1 or max_batch_tokens < 1 or max_new_tokens < 1 or num_beams < 1:
            raise ModelError("batch_size, max_batch_tokens, max_new_tokens and num_beams must be at least 1")
        if quantize == "int8" and device != "cpu":
            raise ModelError("quantize: int8 (dynamic quantisation) runs on the CPU only; use dtype: bf16 on cuda")
        if (compile or cuda_graphs) and scoring != "packed":
            raise ModelError(
                f"{'compile' if compile else 'cuda_graphs'}: true needs scoring: packed (bucketed static shapes); "
                f"scoring: {scoring} has data-dependent shapes that would recompile or re-capture on every batch"
            )
        if threads:
            torch.set_num_threads(threads)
        self.name = name
        self.source = resolve_model_source(name)
        use_verbalizers, use_description = trained_prompt(self.source, use_verbalizers, use_description)
        self.options = dict(
            dtype=dtype, device=device, quantize=quantize, use_verbalizers=use_verbalizers,
            use_description=use_description, scoring=scoring,
        )  # fmt: skip
        self.use_verbalizers = use_verbalizers
        self.use_description = use_description
        self.max_new_tokens = max_new_tokens
        self.num_beams = num_beams
        self.max_input_chars = max_input_chars
        if max_input_tokens < 0:
            raise ModelError(f"max_input_tokens must be 0 (no bound) or positive, not {max_input_tokens}")
        self.max_input_tokens = max_input_tokens
        self.share_prefix = share_prefix
        self.unpad = unpad
        self.packing = PackingSettings(layout=layout, pack_length=pack_length, cuda_graphs=cuda_graphs, compile=compile)
        self.model, self.tokenizer = self._load(self.source, dtype, device)
        if quantize == "int8":
            quantize_int8(self.model)
        self.soft_prompts = self._soft_prompts(soft_prompts, device, dtype)
        settings = ScorerSettings(
            soft_prompts=self.soft_prompts, unseen=unseen_soft_prompt, seed=seed, batch_size=batch_size,
            max_batch_tokens=max_batch_tokens, length_normalize=length_normalize,
        )  # fmt: skip
        self.scorer = self._scorer(scoring, settings)
        # the packed scorers hand generation on to the fast ones themselves
        self.generator = self.scorer if scoring != "naive" else self._scorer("fast", settings)

    # -- set-up hooks for subclasses -------------------------------------------
    @abstractmethod
    def _load(self, source: str, dtype: str, device: str) -> tuple[Any, Any]:
        """``(model, tokenizer)`` of ``source``, in eval mode."""

    @abstractmethod
    def _scorer(self, scoring: str, settings: ScorerSettings) -> Any:
        """The ``naive``, ``fast`` or ``packed`` scorer of this model family."""

    def _soft_prompts(self, wanted: bool | None, device: str, dtype: str) -> Any:
        from zp_hf.loading import torch_dtype
        from zp_hf.soft_prompts import SoftPromptTable, has_soft_prompts

        if wanted is False:
            return None
        if not has_soft_prompts(self.source):
            if wanted:
                raise ModelError(
                    f"soft_prompts: true, but {self.name!r} has no soft_prompts.safetensors/soft_prompts.json. "
                    "Use a checkpoint folder saved by the trainer, or set soft_prompts: false."
                )
            return None
        table = SoftPromptTable.load(self.source)
        width = self.model.get_input_embeddings().embedding_dim
        if table.hidden_size != width:
            raise ModelError(f"soft prompts in {self.source} have width {table.hidden_size}, the model {width}")
        return table.to(device=device, dtype=torch_dtype(dtype)).requires_grad_(False)

    # -- the pipeline ------------------------------------------------------------
    def queries(self, items: Sequence[PredictItem]) -> list[Query]:
        cut = self._cut_to_tokens if self.max_input_tokens else None
        return [
            formatting.make_query(
                item, use_verbalizers=self.use_verbalizers, use_description=self.use_description,
                max_input_chars=self.max_input_chars, cut=cut,
            )  # fmt: skip
            for item in items
        ]

    def _cut_to_tokens(self, text: str) -> str:
        """``text`` cut to its first ``max_input_tokens`` tokens (unchanged when shorter).

        A bound in tokens costs the same in every script: 600 Chinese characters are about
        1,000 SmolLM2 tokens, 600 English ones about 130.
        """
        bound = self.max_input_tokens
        if not getattr(self.tokenizer, "is_fast", False):
            ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
            return text if len(ids) <= bound else self.tokenizer.decode(ids[:bound], skip_special_tokens=True)
        offsets = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
        return text if len(offsets) <= bound else text[: offsets[bound - 1][1]]

    def predict(self, items: Sequence[PredictItem]) -> list[Any]:
        """Per item: ``{key: log-likelihood}`` (classification) or the generated text."""
        queries = self.queries(items)
        out: list[Any] = [None] * len(queries)
        scored = [i for i, q in enumerate(queries) if not q.is_generation]
        generated = [i for i, q in enumerate(queries) if q.is_generation]
        for index, scores in zip(scored, self.score([queries[i] for i in scored])):
            out[index] = scores
        for index, text in zip(generated, self.generate([queries[i] for i in generated])):
            out[index] = text
        return out

    def score(self, queries: Sequence[Query]) -> list[dict[str, float]]:
        """Rank classification: each query's candidates with their log-likelihoods."""
        if not queries:
            return []
        rows = self.scorer.score(self.encode(queries))
        return [dict(zip(q.keys, row)) for q, row in zip(queries, rows)]

    def generate(self, queries: Sequence[Query]) -> list[str]:
        if not queries:
            return []
        ids = self.generator.generate(self.encode(queries), max_new_tokens=self.max_new_tokens, num_beams=self.num_beams)
        return [self.decode(row) for row in ids]

    @abstractmethod
    def encode(self, queries: Sequence[Query]) -> list[Any]:
        """One token item per query, for the scorer."""

    @abstractmethod
    def decode(self, ids: list[int]) -> str:
        """The text of generated ids."""


class HFCausalBackend(HFBackend):
    """A decoder-only LM (AutoModelForCausalLM): SmolLM2, GPT-2, Llama...

    Cloze prompts are shown whole, the blank as ``___``, then an answer cue
    (see :mod:`zp_hf.formatting`); options are listed in docs/backends.md.
    """

    family = "causal"

    def _load(self, source: str, dtype: str, device: str) -> tuple[Any, Any]:
        from zp_hf.loading import load_causal_lm

        return load_causal_lm(source, dtype=dtype, device=device)  # type: ignore[arg-type]

    def _scorer(self, scoring: str, settings: ScorerSettings) -> Any:
        if scoring == "naive":
            from zp_hf.naive import NaiveCausalScorer

            return NaiveCausalScorer(self.model, settings)
        if scoring == "packed":
            from zp_hf.packed import PackedCausalScorer

            return PackedCausalScorer(self.model, self.tokenizer, settings, self.packing)
        from zp_hf.causal import CausalScorer

        return CausalScorer(self.model, self.tokenizer, settings, share_prefix=self.share_prefix, unpad=self.unpad)

    def encode(self, queries: Sequence[Query]) -> list[Any]:
        from zp_hf.batching import TokenItem

        contexts = [formatting.causal_context(q.prompt, q.language) for q in queries]
        context_ids = self.tokenizer(contexts, add_special_tokens=True)["input_ids"]
        answers: dict[str, list[int]] = {}
        limit = self._context_limit()
        items = []
        for query, context, ids in zip(queries, contexts, context_ids):
            candidates = []
            for candidate in query.candidates:
                text = formatting.causal_answer(context, candidate, query.language)
                if text not in answers:
                    answers[text] = self.tokenizer(text, add_special_tokens=False)["input_ids"]
                if not answers[text]:
                    raise ModelError(f"answer {candidate!r} of task {query.task!r} tokenizes to nothing")
                candidates.append(answers[text])
            longest = max((len(c) for c in candidates), default=self.max_new_tokens)
            keep = max(limit - longest, 1)
            items.append(TokenItem(query.task, list(ids[-keep:]), candidates, f"{query.task}\n{query.template}"))
        return items

    def mean_token_logprob(self, texts: Sequence[str]) -> list[float]:
        """Per text, the mean log-probability of its tokens, each given the ones before it
        (the first given the BOS token, or EOS where the tokenizer has no BOS)."""
        import torch

        start = self.tokenizer.bos_token_id if self.tokenizer.bos_token_id is not None else self.tokenizer.eos_token_id
        rows = [[start, *self.tokenizer(text, add_special_tokens=False)["input_ids"]] for text in texts]
        out: list[float] = []
        device = next(self.model.parameters()).device
        with torch.inference_mode():
            for row in rows:
                if len(row) < 2:
                    out.append(float("-inf"))
                    continue
                ids = torch.tensor([row], device=device)
                logits = self.model(input_ids=ids).logits[0, :-1].float()
                picked = torch.log_softmax(logits, dim=-1).gather(1, ids[0, 1:, None])
                out.append(float(picked.mean()))
        return out

    def _context_limit(self) -> int:
        limit = getattr(self.model.config, "max_position_embeddings", None) or 2048
        return limit - (self.soft_prompts.n if self.soft_prompts is not None else 0)

    def decode(self, ids: list[int]) -> str:
        text = self.tokenizer.decode(ids, skip_special_tokens=True)
        # Instruction-tuned LMs go on after the answer; the answer is the first line.
        return text.strip().split("\n", 1)[0].strip()


class HFSeq2SeqBackend(HFBackend):
    """An encoder-decoder LM (AutoModelForSeq2SeqLM): T5, mT5, BART...

    The blank becomes the sentinel ``<extra_id_0>`` (or the mask token) and the
    answer is decoded after it; see :mod:`zp_hf.formatting`.
    """

    family = "seq2seq"

    def _load(self, source: str, dtype: str, device: str) -> tuple[Any, Any]:
        from zp_hf.loading import load_seq2seq_lm

        model, tokenizer = load_seq2seq_lm(source, dtype=dtype, device=device)  # type: ignore[arg-type]
        vocab = tokenizer.get_vocab()
        self.sentinel = formatting.T5_SENTINEL if formatting.T5_SENTINEL in vocab else None
        self.sentinel_id = vocab.get(formatting.T5_SENTINEL)
        self.blank = self.sentinel or tokenizer.mask_token or formatting.VISIBLE_BLANK
        return model, tokenizer

    def _scorer(self, scoring: str, settings: ScorerSettings) -> Any:
        if scoring == "naive":
            from zp_hf.naive import NaiveSeq2SeqScorer

            return NaiveSeq2SeqScorer(self.model, settings, sentinel_id=self.sentinel_id)
        if scoring == "packed":
            from zp_hf.packed_seq2seq import PackedSeq2SeqScorer

            return PackedSeq2SeqScorer(self.model, self.tokenizer, settings, self.packing, sentinel_id=self.sentinel_id)
        from zp_hf.seq2seq import Seq2SeqScorer

        return Seq2SeqScorer(self.model, self.tokenizer, settings, sentinel_id=self.sentinel_id, unpad=self.unpad)

    def encode(self, queries: Sequence[Query]) -> list[Any]:
        from zp_hf.batching import TokenItem

        sources = [formatting.seq2seq_source(q.prompt, self.blank) for q in queries]
        source_ids = self.tokenizer(sources, add_special_tokens=True)["input_ids"]
        answers: dict[str, list[int]] = {}
        items = []
        for query, ids in zip(queries, source_ids):
            candidates = []
            for candidate in query.candidates:
                text = formatting.seq2seq_answer(candidate, query.language)
                if text not in answers:
                    answers[text] = self.tokenizer(text, add_special_tokens=False)["input_ids"]
                if not answers[text]:
                    raise ModelError(f"answer {candidate!r} of task {query.task!r} tokenizes to nothing")
                candidates.append(answers[text])
            items.append(TokenItem(query.task, list(ids), candidates))
        return items

    def decode(self, ids: list[int]) -> str:
        text = self.tokenizer.decode(ids, skip_special_tokens=False)
        for token in (self.tokenizer.pad_token, self.tokenizer.eos_token):
            if token:
                text = text.replace(token, " ")
        if self.sentinel:
            text = text.replace(self.sentinel, " ", 1)
            text = text.split("<extra_id_", 1)[0]  # the answer ends at the next sentinel
        return " ".join(text.split())


def resolve_scoring(scoring: str, device: str) -> str:
    """``auto`` is ``packed`` on a GPU (no host sync per batch, static shapes) and ``fast``
    on the CPU (prefix sharing and unpadded Linear layers, tuned for a few cores)."""
    if scoring == "auto":
        return "fast" if device == "cpu" else "packed"
    if scoring not in ("fast", "packed", "naive"):
        raise ModelError(f"unknown scoring {scoring!r}; use auto, fast, packed or naive")
    return scoring


def quantize_int8(model: Any) -> None:
    """Dynamic int8 quantisation of the transformer's Linear layers, in place (CPU).

    Kept in full precision: the LM head, and every down-projection (a Linear with more
    inputs than outputs, e.g. Llama's ``mlp.down_proj``): its inputs carry the
    activation outliers that per-tensor activation scales cannot represent. On
    SmolLM2 quantising them too dropped the label agreement with fp32 to about a third;
    per-channel weight scales help as well.
    """
    import warnings

    import torch
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    head = model.get_output_embeddings()
    spec = {
        name: per_channel_dynamic_qconfig
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear) and module is not head and module.in_features <= module.out_features
    }
    if not spec:
        raise ModelError("int8 quantisation found no Linear layers to quantise in this model")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao deprecation notices; the API still works in torch 2.x
        quantize_dynamic(model, spec, dtype=torch.qint8, inplace=True)
