"""A tiny random Marian (opus-mt layout) built locally, so the ``marian`` engine runs in tests.

It has real SentencePiece models (trained here on stdlib docstrings), a
``vocab.json`` and a transformers ``MarianMTModel``: exactly the files of a
downloaded ``Helsinki-NLP/opus-mt-xx-yy`` folder, loaded through the same code.
"""

from __future__ import annotations

import io
import json
from pathlib import Path


def build_tiny_marian(folder: Path, source: str, target: str, seed: int = 0) -> Path:
    import sentencepiece as spm
    import torch
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    from zp_hf.tiny import default_corpus

    folder.mkdir(parents=True, exist_ok=True)
    proto = io.BytesIO()
    lines = [line for text in default_corpus() for line in text.splitlines() if line.strip()]
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines), model_writer=proto, vocab_size=500, model_type="unigram",
        character_coverage=1.0, minloglevel=2,
    )  # fmt: skip
    for name in ("source.spm", "target.spm"):
        (folder / name).write_bytes(proto.getvalue())
    pieces = spm.SentencePieceProcessor(model_proto=proto.getvalue())
    vocab = {"</s>": 0, "<unk>": 1, "<pad>": 2}
    for i in range(pieces.get_piece_size()):
        vocab.setdefault(pieces.id_to_piece(i), len(vocab))
    (folder / "vocab.json").write_text(json.dumps(vocab))
    tokenizer = MarianTokenizer(
        str(folder / "source.spm"), str(folder / "target.spm"), str(folder / "vocab.json"),
        source_lang=source, target_lang=target,
    )  # fmt: skip
    config = MarianConfig(
        vocab_size=len(vocab), d_model=32, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
        decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64, max_position_embeddings=512,
        pad_token_id=vocab["<pad>"], eos_token_id=0, decoder_start_token_id=vocab["<pad>"],
    )  # fmt: skip
    torch.manual_seed(seed)
    MarianMTModel(config).eval().save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
