"""``zp-evolve bench --random-init`` on the CPU: the GPU benchmark's code paths, small sizes,
a tiny model in the bench pack (real Rotten Tomatoes texts from the packaged data)."""

from __future__ import annotations

import json

import pytest

from zp_evolve.errors import DataError
from zp_hf.benchmarking import stages as bench_stages
from zp_hf.benchmarking.command import main
from zp_hf.benchmarking.pack import load_pack, make_pack

SMALL = ["--random-init", "--device", "cpu", "--threads", "1", "--t5", "tiny", "--items", "24", "--agree", "8",
         "--repeats", "1", "--max-batch-tokens", "512"]  # fmt: skip


@pytest.fixture(scope="module")
def pack(catalog, tmp_path_factory):
    """A pack whose model is a tiny Llama with ' negative' and ' positive' as single tokens."""
    from zp_hf.tiny import build_tiny_causal

    folder = tmp_path_factory.mktemp("bench")
    task = catalog.get("rotten_tomatoes")
    texts = [e.inputs["X"] for e in catalog.examples("rotten_tomatoes", "test")[:300]]
    model = build_tiny_causal(folder / "model", texts=texts + [" " + v for v in task.verbalizers] * 50)
    return make_pack(folder / "pack", model=model, examples=64)


def _run(capsys, args):
    assert main(args) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_pack_holds_shape_tokenizer_and_real_texts(pack):
    loaded = load_pack(pack)
    assert (loaded.model_dir / "config.json").is_file() and (loaded.model_dir / "tokenizer.json").is_file()
    assert not list(loaded.model_dir.glob("*.safetensors"))  # the shape travels, never the weights
    assert loaded.task.name == "rotten_tomatoes" and len(loaded.examples) == 64
    items = loaded.items(200, prompts=2)
    assert len(items) == 200 and {i.template for i in items} == set(loaded.task.prompts[:2])
    with pytest.raises(DataError, match="--make-pack"):
        load_pack(pack.parent / "missing")


def test_random_init_bench_runs_on_the_cpu(pack, tmp_path, capsys):
    out = tmp_path / "report.json"
    summary = _run(capsys, SMALL + ["--pack", str(pack), "--stages", "causal,seq2seq", "--out", str(out)])
    report = json.loads(out.read_text())
    assert report["summary"] == summary and not report["errors"]
    causal = report["causal"]
    assert set(causal["variants"]) == {"packed", "padded", "fast (CPU path)"}  # no CUDA graphs on the CPU
    assert causal["plain_hf"]["agreement"] >= 0.75 and causal["flop_bound_examples_per_s"] > 0
    # bf16 against the fp32 reference: scores within bf16 rounding, close labels may swap.
    assert all(row["max_abs_diff_vs_naive_fp32"] < 0.1 for row in causal["variants"].values())
    assert all(row["agreement"] >= 0.75 for row in causal["variants"].values())
    assert summary["gpu_variant"] in ("packed", "padded") and summary["gpu_vs_plain_hf"] > 0
    assert summary["seq2seq_agreement"] >= 0.75 and summary["seq2seq_plain_hf_examples_per_s"] > 0
    assert summary["targets"]["agreement >= 0.99"] is (summary["agreement"] >= 0.99)
    assert summary["compile_warmup_s"] is None and "compile" not in report  # not asked for


def test_a_run_cut_short_keeps_what_it_measured(pack, tmp_path, monkeypatch):
    out = tmp_path / "report.json"
    measured = []
    original = bench_stages.Family.variant

    def variant(self, name, options, backend=None):
        if measured:
            raise KeyboardInterrupt  # the machine is taken away during the second variant
        measured.append(name)
        return original(self, name, options, backend)

    monkeypatch.setattr(bench_stages.Family, "variant", variant)
    with pytest.raises(KeyboardInterrupt):
        main(SMALL + ["--pack", str(pack), "--stages", "causal", "--out", str(out)])
    report = json.loads(out.read_text())
    assert list(report["causal"]["variants"]) == measured == ["packed"]
    assert report["causal"]["plain_hf"]["examples_per_s"] > 0
    assert report["summary"]["gpu_examples_per_s"] is None  # no best variant yet: nothing claimed


def test_unknown_stage_is_a_clear_error(pack):
    from zp_evolve.errors import ModelError

    with pytest.raises(ModelError, match="unknown --stages"):
        main(SMALL + ["--pack", str(pack), "--stages", "causal,warp"])


@pytest.mark.slow
def test_shared_and_compile_stages_on_the_cpu(pack, tmp_path, capsys):
    out = tmp_path / "report.json"
    summary = _run(capsys, SMALL + ["--pack", str(pack), "--stages", "causal,shared,compile", "--shared-processes", "2",
                                    "--compile", "--out", str(out)])  # fmt: skip
    report = json.loads(out.read_text())
    assert not report["errors"], report["errors"]
    shared = report["shared"]["processes"]
    assert shared["workers"] == 2 and shared["agreement_with_single_process"] == 1.0
    assert summary["shared_gpu_efficiency"] > 0
    assert summary["compile_warmup_s"] > 0 and summary["recompilations_after_warmup"] == 0
    assert report["compile"]["variants"]["compile"]["agreement"] >= 0.75
