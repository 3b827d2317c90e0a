"""Tiny, randomly initialised models for tests, built locally through the real code paths.

Each builder trains a tokenizer on real text with ``tokenizers``, builds a
transformers model from a config with a seeded init, and ``save_pretrained``s both
into a folder that works as ``name:`` in YAML, exactly like a downloaded model.

* :func:`build_tiny_causal`: Llama-shaped (SmolLM2's architecture), byte-level BPE.
* :func:`build_tiny_t5`: T5 with a Unigram tokenizer and the sentinels ``<extra_id_0>``...

:func:`tiny_model` builds each kind once per process into a temporary folder, so
tests in any folder can share them.
"""

from __future__ import annotations

import atexit
import importlib
import inspect
import shutil
import tempfile
from pathlib import Path
from typing import Iterable, Literal

#: Standard-library modules whose docstrings give real English prose for tokenizers.
_CORPUS_MODULES = (
    "argparse", "collections", "json", "textwrap", "logging", "unittest", "email", "http.client",
    "csv", "difflib", "string", "tarfile", "zipfile", "pathlib", "functools", "heapq", "random",
    "statistics", "fractions", "decimal",
)  # fmt: skip
#: A few Chinese sentences (real text) so Chinese inputs do not all map to <unk> in the tiny T5.
_ZH_TEXT = (
    "这部电影非常好看，演员的表演很自然。",
    "服务态度太差了，我再也不会来这家店。",
    "北京时间今天上午，国家统计局发布了最新的经济数据。",
    "请问明天上海的天气怎么样？",
    "答案：是的。选项：好，坏。",
)


def default_corpus() -> list[str]:
    """Real text available offline: stdlib docstrings plus a few Chinese sentences."""
    texts: list[str] = []
    for name in _CORPUS_MODULES:
        module = importlib.import_module(name)
        texts.append(inspect.getdoc(module) or "")
        for _, member in sorted(vars(module).items()):
            if (inspect.isclass(member) or inspect.isfunction(member)) and getattr(member, "__module__", "") == name:
                texts.append(inspect.getdoc(member) or "")
    texts.extend(_ZH_TEXT)
    return [t for t in texts if t.strip()]


def _corpus(texts: Iterable[str] | None) -> list[str]:
    return default_corpus() + [t for t in (texts or ()) if t]


def build_tiny_causal(
    folder: str | Path,
    *,
    texts: Iterable[str] | None = None,
    vocab_size: int = 1024,
    hidden_size: int = 64,
    layers: int = 2,
    seed: int = 0,
) -> str:
    """A Llama/SmolLM2-shaped causal LM with a byte-level BPE tokenizer; returns the folder."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    folder = Path(folder)
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tokenizer.train_from_iterator(_corpus(texts), trainer)
    wrapped = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, bos_token="<|im_start|>", eos_token="<|im_end|>", pad_token="<|im_end|>",
        unk_token="<|endoftext|>",
    )  # fmt: skip
    config = LlamaConfig(
        vocab_size=len(wrapped),
        hidden_size=hidden_size,
        intermediate_size=hidden_size * 2,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        tie_word_embeddings=True,
        # A wide init spreads the logits, so candidate scores rarely tie in tests.
        initializer_range=0.2,
        bos_token_id=wrapped.bos_token_id,
        eos_token_id=wrapped.eos_token_id,
        pad_token_id=wrapped.pad_token_id,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config).eval()
    model.save_pretrained(folder)
    wrapped.save_pretrained(folder)
    return str(folder)


def build_tiny_t5(
    folder: str | Path,
    *,
    texts: Iterable[str] | None = None,
    vocab_size: int = 800,
    d_model: int = 64,
    layers: int = 2,
    num_heads: int = 4,
    d_kv: int = 16,
    d_ff: int | None = None,
    extra_ids: int = 100,
    seed: int = 0,
    feed_forward_proj: str = "gated-gelu",
    relative_attention_num_buckets: int = 8,
    tie_word_embeddings: bool = False,
    model_vocab_size: int | None = None,
    words: Iterable[str] = (),
) -> str:
    """A T5 with a Unigram tokenizer (T5's layout, sentinels included); returns the folder.

    ``words`` become single tokens (``"\u2581word"``), e.g. a task's verbalizers, as they are
    in T5's own vocabulary.
    ``model_vocab_size`` sizes the embeddings and head beyond the tokenizer (T5-base's
    32,128 rows with a small locally trained tokenizer, for benchmarks at real shape).
    """
    import json

    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import T5Config, T5ForConditionalGeneration, T5Tokenizer

    folder = Path(folder)
    tokenizer = Tokenizer(models.Unigram())
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
    trainer = trainers.UnigramTrainer(
        vocab_size=vocab_size, special_tokens=["<pad>", "</s>", "<unk>"], unk_token="<unk>"
    )
    tokenizer.train_from_iterator(_corpus(texts), trainer)
    vocab = [tuple(entry) for entry in json.loads(tokenizer.to_str())["model"]["vocab"]]
    known = {piece for piece, _ in vocab}
    best = max(score for _, score in vocab[3:]) if len(vocab) > 3 else 0.0
    # Whole words asked for become single pieces, scored as likely as the likeliest piece.
    vocab += [(f"\u2581{word}", best) for word in dict.fromkeys(words) if f"\u2581{word}" not in known]
    # T5 puts the sentinels last, <extra_id_0> at the very end.
    vocab += [(f"<extra_id_{i}>", 0.0) for i in range(extra_ids - 1, -1, -1)]
    wrapped = T5Tokenizer(vocab=vocab, extra_ids=extra_ids)
    config = T5Config(
        vocab_size=max(model_vocab_size or 0, len(wrapped)),
        d_model=d_model,
        d_kv=d_kv,
        d_ff=d_ff or d_model * 2,
        num_layers=layers,
        num_decoder_layers=layers,
        num_heads=num_heads,
        relative_attention_num_buckets=relative_attention_num_buckets,
        feed_forward_proj=feed_forward_proj,
        tie_word_embeddings=tie_word_embeddings,
        initializer_factor=1.0,
        pad_token_id=wrapped.pad_token_id,
        eos_token_id=wrapped.eos_token_id,
        decoder_start_token_id=wrapped.pad_token_id,
    )
    torch.manual_seed(seed)
    model = T5ForConditionalGeneration(config).eval()
    model.save_pretrained(folder)
    wrapped.save_pretrained(folder)
    return str(folder)


_BUILT: dict[str, str] = {}
_ROOT: list[Path] = []


def tiny_model(kind: Literal["causal", "t5"]) -> str:
    """The folder of a tiny model of ``kind``, built once per process (removed at exit)."""
    if kind not in _BUILT:
        if not _ROOT:
            _ROOT.append(Path(tempfile.mkdtemp(prefix="zp_tiny_")))
            atexit.register(shutil.rmtree, _ROOT[0], True)
        builder = {"causal": build_tiny_causal, "t5": build_tiny_t5}.get(kind)
        if builder is None:
            raise ValueError(f"unknown tiny model kind {kind!r}; use 'causal' or 't5'")
        _BUILT[kind] = builder(_ROOT[0] / kind)
    return _BUILT[kind]
