"""The bench pack: what ``zp-evolve bench --random-init`` needs, in one folder that travels.

A GPU machine with no network and no model cache can still run the benchmark at real
shapes. The pack holds the packaged model's config and tokenizer (no weights: the
benchmark initialises them at random from the config) and a sample of a real task's
examples. ``--make-pack DIR`` writes it from this machine's cache; ``--pack DIR``
reads it. Its texts come from the downloaded data archives, which the project never
commits, so benchmarks/.gitignore ignores the default folder ``benchmarks/gpu_pack``;
it is a few MB and travels with the code as an ignored path.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zp_evolve.errors import DataError
from zp_evolve.tasks import Example, Task

FORMAT = "zp_evolve.bench_pack/1"
#: Files of a model folder that describe its shape and tokenizer (never its weights).
SHAPE_FILES = (
    "config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
    "special_tokens_map.json", "chat_template.jinja", "tokenizer.model", "spiece.model", "vocab.json", "merges.txt",
)  # fmt: skip
#: T5 shapes the seq2seq part of the benchmark builds (random weights, local tokenizer).
T5_SHAPES: dict[str, dict[str, Any]] = {
    # t5-base as published: 12+12 layers, d_model 768, relu MLP of 3072, tied embeddings, 32,128 rows.
    "base": dict(d_model=768, layers=12, num_heads=12, d_kv=64, d_ff=3072, feed_forward_proj="relu",
                 relative_attention_num_buckets=32, tie_word_embeddings=True, model_vocab_size=32128),
    "small": dict(d_model=512, layers=6, num_heads=8, d_kv=64, d_ff=2048),  # the CPU benchmark's T5
    "tiny": dict(d_model=64, layers=2, num_heads=4, d_kv=16),
}  # fmt: skip


@dataclass
class Pack:
    """A loaded pack: the model's shape folder, the task and its sample of examples."""

    folder: Path
    model_name: str
    task: Task
    examples: list[Example]

    @property
    def model_dir(self) -> Path:
        return self.folder / "model"

    def items(self, count: int, prompts: int = 2) -> list[Any]:
        """``count`` (prompt, example) pairs: each example under the first ``prompts``
        handcrafted prompts, prompt by prompt, the sample repeated if ``count`` needs it."""
        from zp_hf.formatting import PredictItem

        pairs = [(p, e) for p in self.task.prompts[:prompts] for e in self.examples]
        return [PredictItem(self.task, *pairs[i % len(pairs)]) for i in range(count)]


def make_pack(folder: str | Path, *, model: str = "smollm2-135m-instruct", task: str = "rotten_tomatoes",
              examples: int = 2048, split: str = "test") -> Path:  # fmt: skip
    """Write a pack into ``folder`` from the cache (the model's config and tokenizer, and
    the first ``examples`` examples of ``task``'s ``split``)."""
    from zp_evolve.catalog import TaskCatalog
    from zp_evolve.plugins import load_plugins
    from zp_hf.loading import resolve_model_source

    folder = Path(folder)
    source = Path(resolve_model_source(model))
    catalog = TaskCatalog(load_plugins(), [{"name": "packaged"}])
    if task not in catalog:
        raise DataError(catalog.unknown_message(task))
    chosen = catalog.examples(task, split)[:examples]
    shutil.rmtree(folder / "model", ignore_errors=True)
    (folder / "model").mkdir(parents=True)
    copied = [name for name in SHAPE_FILES if (source / name).is_file()]
    if "config.json" not in copied:
        raise DataError(f"{source} has no config.json; pass a model folder or packaged alias with one")
    for name in copied:
        shutil.copyfile(source / name, folder / "model" / name)
    meta = {
        "format": FORMAT,
        "model": model,
        "task": dataclasses.asdict(catalog.get(task)),
        "split": split,
        "examples": [{"inputs": dict(e.inputs), "target": e.target, "candidates": list(e.candidates)} for e in chosen],
    }
    (folder / "pack.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    return folder


def load_pack(folder: str | Path) -> Pack:
    """Read a pack written by :func:`make_pack`."""
    folder = Path(folder)
    path = folder / "pack.json"
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise DataError(
            f"no bench pack at {folder} ({error}). Write one where the cache is: "
            f"zp-evolve bench --make-pack {folder}"
        ) from error
    if meta.get("format") != FORMAT or not (folder / "model" / "config.json").is_file():
        raise DataError(f"{folder} is not a complete bench pack ({FORMAT}); write it again with --make-pack")
    fields = {key: tuple(value) if isinstance(value, list) else value for key, value in meta["task"].items()}
    examples = [
        Example(e["inputs"], e["target"], f"{path}:{i}", tuple(e.get("candidates", ()))) for i, e in enumerate(meta["examples"])
    ]
    if not examples:
        raise DataError(f"{path} holds no examples")
    return Pack(folder, meta["model"], Task(**fields), examples)


def random_causal_model(pack: Pack, out: str | Path, *, seed: int = 0) -> str:
    """A model folder with random weights of the pack's model shape and its real tokenizer."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    out = Path(out)
    config = AutoConfig.from_pretrained(pack.model_dir)
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config).eval()
    model.save_pretrained(out)
    for name in SHAPE_FILES:
        if name != "config.json" and (pack.model_dir / name).is_file():
            shutil.copyfile(pack.model_dir / name, out / name)
    return str(out)


def random_t5_model(pack: Pack, out: str | Path, *, shape: str = "base", seed: int = 0) -> str:
    """A T5 of ``shape`` (:data:`T5_SHAPES`) with random weights and a tokenizer trained here
    on the pack's texts (no pretrained T5 installs offline; speed depends on the shape)."""
    from zp_hf.tiny import build_tiny_t5

    if shape not in T5_SHAPES:
        raise DataError(f"unknown T5 shape {shape!r}; use one of {', '.join(T5_SHAPES)}")
    texts = [" ".join(e.inputs.values()) for e in pack.examples]
    # The verbalizers are single tokens, as in T5's own vocabulary (and as the anchor needs).
    words = [v for v in pack.task.verbalizers if " " not in v]
    return build_tiny_t5(out, texts=texts, vocab_size=8000, seed=seed, words=words, **T5_SHAPES[shape])

