"""Loss curves of a training run as a PNG (total, supervised and MLM loss per step)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence


def plot_losses(records: Sequence[dict[str, Any]], path: str | Path, *, title: str = "") -> Path | None:
    """Write ``path`` from metric records (``step``, ``loss``, ``sup``, ``mlm``); None when empty."""
    if not records:
        return None
    import matplotlib

    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt

    steps = [r["step"] for r in records]
    figure, axis = plt.subplots(figsize=(6.4, 4.0), dpi=120)
    axis.plot(steps, [r["loss"] for r in records], label="total  (λ·L_sup + L_MLM)", color="black")
    axis.plot(steps, [r["sup"] for r in records], label="L_sup (supervised)", color="tab:blue")
    if any(r.get("mlm") for r in records):
        axis.plot(steps, [r["mlm"] for r in records], label="L_MLM (auxiliary)", color="tab:orange")
    axis.set_xlabel("optimiser step")
    axis.set_ylabel("mean token cross-entropy")
    axis.set_title(title or "training loss")
    axis.grid(alpha=0.3)
    axis.legend()
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
    return path
