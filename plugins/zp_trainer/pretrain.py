"""Pretrain a small T5 from scratch: its own sentencepiece tokenizer, then span corruption.

No pretrained encoder-decoder installs offline here (RESOURCES.md), yet the T5
infilling mutator (LM-BFF) and the seq2seq demos need one. This job builds it from
the texts of the packaged tasks (English and Chinese; never their test splits):

1. a sentencepiece unigram tokenizer in T5's layout (``<pad>`` 0, ``</s>`` 1, ``<unk>`` 2,
   sentinels ``<extra_id_0..99>`` after the pieces), wrapped as a transformers ``T5Tokenizer``;
2. a T5 (gated-GELU, untied head, as T5 v1.1) of a CPU-friendly size;
3. span corruption (noise 15%, mean span 3) with the same loop, checkpoints and resume
   as multitask training (:class:`zp_trainer.loop.Trainer` with no supervised tasks);
4. the final model is installed as ``cache_root()/models/NAME`` so ``name: NAME``
   (default ``zp-t5-small``) loads it anywhere.
"""

from __future__ import annotations

import io
import random
import shutil
from pathlib import Path
from typing import Any, Literal, Optional, Sequence

from pydantic import Field

from zp_evolve.errors import DataError
from zp_trainer.schema import CheckpointConfig, JobHeader, LossConfig, OptimConfig, _Strict

#: Written into an installed model folder; its presence means the copy is complete.
INSTALLED_MARKER = "zp_model.json"


class CorpusConfig(_Strict):
    """Unlabelled text: the inputs of the packaged tasks' non-test splits."""

    providers: list[dict[str, Any]] = Field(default_factory=lambda: [{"name": "packaged"}])
    languages: list[str] = Field(default_factory=lambda: ["en", "zh"])
    types: list[str] = Field(default_factory=list, description="only these task types (default: all)")
    per_task: int = Field(2000, ge=1, description="texts per task at most (a seeded choice)")
    min_chars: int = Field(8, ge=1, description="drop shorter texts")


class TokenizerConfig(_Strict):
    vocab_size: int = Field(8000, ge=200, description="sentencepiece pieces, before the 100 sentinels")
    character_coverage: float = Field(0.9995, gt=0, le=1, description="high enough to keep common Chinese characters")
    max_sentences: int = Field(200000, ge=1000, description="texts sentencepiece trains on at most")


class T5Shape(_Strict):
    """The T5's size. Defaults: 9.2M parameters with the 8k vocabulary, trainable on 2 CPU cores."""

    d_model: int = Field(256, ge=16)
    layers: int = Field(3, ge=1, description="encoder layers, and as many decoder layers")
    heads: int = Field(4, ge=1)
    d_kv: int = Field(64, ge=8)
    d_ff: int = Field(1024, ge=16)
    dropout: float = Field(0.0, ge=0, lt=1, description="T5 pretrains without dropout")


class PretrainOptim(OptimConfig):
    """AdamW defaults for pretraining from scratch (not the paper's fine-tuning ones)."""

    lr: float = Field(2e-3, gt=0)
    batch_size: int = Field(16, ge=1, description="texts per optimiser step")
    steps: int = Field(2000, ge=1)
    warmup_steps: int = Field(100, ge=0)
    schedule: Literal["constant", "linear"] = "linear"
    weight_decay: float = Field(0.01, ge=0)


class PretrainConfig(JobHeader):
    job: Literal["pretrain"] = "pretrain"
    corpus: CorpusConfig = Field(default_factory=CorpusConfig)
    tokenizer: TokenizerConfig = Field(default_factory=TokenizerConfig)
    model: T5Shape = Field(default_factory=T5Shape)
    optim: PretrainOptim = Field(default_factory=PretrainOptim)
    loss: LossConfig = Field(default_factory=lambda: LossConfig(mlm_tokens=64))
    checkpoint: CheckpointConfig = Field(default_factory=CheckpointConfig)
    log_every: int = Field(25, ge=1)
    max_source_tokens: int = Field(256, ge=8)
    max_target_tokens: int = Field(128, ge=2)
    install_as: Optional[str] = Field("zp-t5-small", description="install the result as a model alias (null: don't)")
    reuse_installed: bool = Field(
        False, description="skip training when install_as already holds a model pretrained with this same configuration"
    )
    device: str = Field("cpu", description="cpu or cuda")
    threads: Optional[int] = Field(None, ge=1, description="torch CPU threads (default: torch's choice)")


def corpus_texts(config: CorpusConfig, seed: int) -> list[str]:
    """Distinct input texts of the selected tasks' non-test splits, in a seeded order."""
    from zp_evolve.catalog import TaskCatalog
    from zp_evolve.plugins import load_plugins
    from zp_evolve.sampling import task_rng

    catalog = TaskCatalog(load_plugins(), config.providers)
    seen: set[str] = set()
    texts: list[str] = []
    for task in catalog.tasks():
        if config.languages and task.language not in config.languages:
            continue
        if config.types and task.type not in config.types:
            continue
        try:
            pool = catalog.eval_pool(task.name)
        except DataError:
            continue  # a task with only a test split gives no pretraining text
        rng = task_rng(seed, task.name, "pretrain")
        chosen = rng.sample(pool, min(config.per_task, len(pool)))
        for example in chosen:
            for text in example.inputs.values():
                text = str(text).strip()
                if len(text) >= config.min_chars and text not in seen:
                    seen.add(text)
                    texts.append(text)
    if not texts:
        raise DataError("no pretraining text found; run 'zp-evolve data pull --all' or widen corpus.languages/types")
    random.Random(seed).shuffle(texts)
    return texts


def train_tokenizer(texts: Sequence[str], config: TokenizerConfig, *, seed: int = 0) -> Any:
    """A sentencepiece unigram model in T5's id layout, as a transformers ``T5Tokenizer``."""
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2
    from transformers import T5Tokenizer

    sample = list(texts)
    if len(sample) > config.max_sentences:
        sample = random.Random(seed).sample(sample, config.max_sentences)
    buffer = io.BytesIO()
    try:
        _train_spm(spm, sample, buffer, config)
    except RuntimeError as error:
        raise DataError(
            f"sentencepiece could not train a {config.vocab_size}-piece tokenizer: {error}. "
            "Raise tokenizer.vocab_size, or lower tokenizer.character_coverage (Chinese text needs a few thousand pieces)."
        ) from error
    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString(buffer.getvalue())
    vocab = [(piece.piece, piece.score) for piece in proto.pieces]
    return T5Tokenizer(vocab=vocab, extra_ids=100, _spm_precompiled_charsmap=proto.normalizer_spec.precompiled_charsmap)


def _train_spm(spm: Any, sample: Sequence[str], buffer: io.BytesIO, config: TokenizerConfig) -> None:
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(sample),
        model_writer=buffer,
        vocab_size=config.vocab_size,
        model_type="unigram",
        character_coverage=config.character_coverage,
        pad_id=0,
        eos_id=1,
        unk_id=2,
        bos_id=-1,
        num_threads=2,
        minloglevel=2,
        hard_vocab_limit=False,  # a small corpus may not support the full size
    )


def build_t5(tokenizer: Any, shape: T5Shape, *, seed: int) -> Any:
    """A randomly initialised T5 v1.1-style model sized by ``shape``."""
    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    config = T5Config(
        vocab_size=len(tokenizer),
        d_model=shape.d_model,
        d_kv=shape.d_kv,
        d_ff=shape.d_ff,
        num_layers=shape.layers,
        num_decoder_layers=shape.layers,
        num_heads=shape.heads,
        dropout_rate=shape.dropout,
        feed_forward_proj="gated-gelu",
        tie_word_embeddings=False,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    model = T5ForConditionalGeneration(config)
    # transformers draws an untied head with std 1, so logits start with std sqrt(d_model)
    # and the first loss is many times log(vocab); d_model**-0.5 starts it near log(vocab).
    with torch.no_grad():
        model.lm_head.weight.normal_(0.0, shape.d_model**-0.5)
    return model


def installed_folder(alias: str) -> Path:
    from zp_evolve.downloads import cache_root

    return cache_root() / "models" / alias


#: Keys that do not change what a pretraining run learns.
_NOT_LEARNED = ("name", "description", "output_dir", "install_as", "reuse_installed", "threads", "device", "log_every", "checkpoint")


def fingerprint(data: dict[str, Any]) -> str:
    """A hash of what a pretraining config learns from (not where it writes or logs)."""
    import hashlib
    import json

    kept = {k: v for k, v in data.items() if k not in _NOT_LEARNED}
    return hashlib.sha256(json.dumps(kept, sort_keys=True, default=str).encode("utf-8")).hexdigest()[:16]


def installed_with(alias: str, expected: str) -> Path | None:
    """The installed folder of ``alias`` if it was pretrained with fingerprint ``expected``."""
    import json

    marker = installed_folder(alias) / INSTALLED_MARKER
    if not marker.is_file():
        return None
    info = json.loads(marker.read_text(encoding="utf-8"))
    return marker.parent if info.get("fingerprint") == expected else None


def install(checkpoint: Path, alias: str, *, info: dict[str, Any]) -> Path:
    """Copy a model folder to ``cache_root()/models/ALIAS`` (atomically replaced)."""
    import json
    import os

    target = installed_folder(alias)
    staged = target.with_name(f".{alias}.staged")
    shutil.rmtree(staged, ignore_errors=True)
    shutil.copytree(checkpoint, staged, ignore=shutil.ignore_patterns("optimizer.*", "rng.*", "trainer_state.json"))
    (staged / INSTALLED_MARKER).write_text(json.dumps({"alias": alias, **info}, indent=2), encoding="utf-8")
    old = target.with_name(f".{alias}.old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        os.replace(target, old)
    os.replace(staged, target)
    shutil.rmtree(old, ignore_errors=True)
    return target
