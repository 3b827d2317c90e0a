"""Contextual calibration on tasks where SmolLM2 has a strong label bias (issue 22, step 3).

For each handcrafted prompt of each task (fixed labels only: calibration leaves multiple
choice and AUC alone), on the seed-0 test sample of benchmarks/gps_generalization.py:
- micro-F1 without and with contextual calibration (Zhao et al., 2021, as in
  ``zp_hf.calibration``: p_cf from "N/A", "" and "[MASK]", averaged then normalised);
- the share of test examples given the model's favourite label, without and with it
  (a prompt that answers one label whatever the input has a share near 100%);
- the label prior p_cf itself.

Calibration is working when the favourite label's share falls towards the true label
distribution and micro-F1 does not fall on average. Writes
``benchmarks/results/calibration_bias.json``::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/calibration_bias.py
"""

from __future__ import annotations

import argparse
import collections
import json
import math
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

from gps_generalization_cells import MODEL, PROVIDERS  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TASKS = ["inews_sentiment", "chatterbot_topics_zh", "thucnews", "rotten_tomatoes", "trec_coarse"]


def favourite_share(predictions: list[dict[str, float]]) -> float:
    """Percent of the predictions that pick the most often picked label."""
    from zp_metrics.classification import argmax_label

    counts = collections.Counter(argmax_label(p) for p in predictions)
    return round(100.0 * counts.most_common(1)[0][1] / len(predictions), 1)


def measure(task_name: str, catalog, backend, metrics, test_size: int) -> dict:
    from zp_evolve.sampling import sample_test
    from zp_hf.calibration import calibrate_all, content_free_examples, label_prior
    from zp_hf.formatting import PredictItem

    task = catalog.get(task_name)
    test = sample_test(task, catalog.examples(task_name, "test"), 0, test_size)
    references = [e.target for e in test]
    micro_f1 = metrics.get("micro_f1").factory
    truth = collections.Counter(references)
    prompts = []
    for template in task.prompts:
        raw = backend.predict([PredictItem(task, template, e) for e in test])
        free = backend.predict([PredictItem(task, template, e) for e in content_free_examples(task)])
        calibrated = calibrate_all(raw, free)
        prior = label_prior(free)
        prompts.append({
            "prompt": template,
            "micro_f1": round(100.0 * micro_f1(raw, references), 2),
            "micro_f1_calibrated": round(100.0 * micro_f1(calibrated, references), 2),
            "favourite_share": favourite_share(raw),
            "favourite_share_calibrated": favourite_share(calibrated),
            "prior": {label: round(math.exp(v), 3) for label, v in prior.items()},
        })
    mean = lambda key: round(statistics.fmean(p[key] for p in prompts), 2)  # noqa: E731
    return {
        "type": task.type, "language": task.language, "labels": len(task.labels), "test_size": len(test),
        "majority_share": round(100.0 * truth.most_common(1)[0][1] / len(test), 1),
        "mean_micro_f1": mean("micro_f1"), "mean_micro_f1_calibrated": mean("micro_f1_calibrated"),
        "mean_favourite_share": mean("favourite_share"), "mean_favourite_share_calibrated": mean("favourite_share_calibrated"),
        "prompts": prompts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", nargs="+", default=TASKS)
    parser.add_argument("--test", type=int, default=200)
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "calibration_bias.json")
    args = parser.parse_args()
    from zp_evolve.catalog import catalog_of
    from zp_evolve.plugins import load_plugins
    from zp_hf.calibration import calibrates

    plugins = load_plugins()
    catalog = catalog_of(plugins, PROVIDERS)
    backend = plugins.build("backends", dict(MODEL), path="model")
    started = time.perf_counter()
    results = {}
    for name in args.tasks:
        if not calibrates(catalog.get(name)):
            raise SystemExit(f"{name}: calibration applies to fixed-label tasks only")
        results[name] = measure(name, catalog, backend, plugins["metrics"], args.test)
        r = results[name]
        print(f"{name:22s} micro-F1 {r['mean_micro_f1']:6.2f} -> {r['mean_micro_f1_calibrated']:6.2f}   "
              f"favourite label {r['mean_favourite_share']:5.1f}% -> {r['mean_favourite_share_calibrated']:5.1f}% "
              f"(majority {r['majority_share']}%)", flush=True)
    out = {
        "model": MODEL, "tasks": results,
        "machine": f"{platform.machine()}, {len(os.sched_getaffinity(0))} CPUs, Python {platform.python_version()}",
        "command": "python benchmarks/calibration_bias.py " + " ".join(sys.argv[1:]),
        "wall_seconds": round(time.perf_counter() - started),
    }
    args.json.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"-> {args.json}")


if __name__ == "__main__":
    main()
