"""Zero-shot results as the paper prints them: per task, then All / Seen / Unseen means.

Scores are shown x100 with two decimals (the paper's convention); ``summary.json``
keeps the raw 0-1 values.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Mapping, Sequence

COLUMNS = ("task", "type", "language", "metric", "n", "seen_type", "score")


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}"


def _mean(rows: Sequence[Mapping[str, Any]]) -> float | None:
    return sum(r["score"] for r in rows) / len(rows) if rows else None


def means(rows: Sequence[Mapping[str, Any]]) -> dict[str, float | None]:
    return {
        "All": _mean(rows),
        "Seen": _mean([r for r in rows if r["seen_type"]]),
        "Unseen": _mean([r for r in rows if not r["seen_type"]]),
    }


def markdown(rows: Sequence[Mapping[str, Any]], *, title: str = "") -> str:
    lines = [f"# {title}", ""] if title else []
    lines += [
        "| Type | Task | Lang | Metric | n | Seen type | Score | per prompt |",
        "|---|---|---|---|---:|:---:|---:|---|",
    ]
    for row in sorted(rows, key=lambda r: (r["type"], r["task"])):
        per_prompt = " / ".join(_fmt(s) for s in row.get("prompt_scores", []))
        seen = "yes" if row["seen_type"] else "no"
        lines.append(
            f"| {row['type']} | {row['task']} | {row['language']} | {row['metric']} | {row['n']} | {seen} | "
            f"{_fmt(row['score'])} | {per_prompt} |"
        )
    lines += ["", "| | All | Seen | Unseen |", "|---|---:|---:|---:|"]
    summary = means(rows)
    counts = {"All": len(rows), "Seen": sum(1 for r in rows if r["seen_type"])}
    counts["Unseen"] = counts["All"] - counts["Seen"]
    lines.append("| mean | " + " | ".join(f"{_fmt(summary[k])} ({counts[k]})" for k in ("All", "Seen", "Unseen")) + " |")
    return "\n".join(lines) + "\n"


def write_tables(rows: Sequence[Mapping[str, Any]], out_dir: str | Path, *, title: str = "") -> tuple[Path, Path]:
    """``results.md`` and ``results.csv`` in ``out_dir``."""
    out_dir = Path(out_dir)
    md_path = out_dir / "results.md"
    md_path.write_text(markdown(rows, title=title), encoding="utf-8")
    csv_path = out_dir / "results.csv"
    with open(csv_path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow([*COLUMNS, "prompt_scores"])
        for row in sorted(rows, key=lambda r: (r["type"], r["task"])):
            writer.writerow([*(row[c] for c in COLUMNS), ";".join(f"{s:.6f}" for s in row.get("prompt_scores", []))])
        for label, value in means(rows).items():
            writer.writerow([f"MEAN_{label.upper()}", "", "", "", "", "", "" if value is None else value, ""])
    return md_path, csv_path
