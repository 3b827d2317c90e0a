"""Matplotlib set-up shared by the report plots (headless, imported only when plotting)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def new_axes(width: float = 7, height: float = 4) -> tuple[Any, Any]:
    """A figure and its axes on the headless Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(width, height))


def finish(fig: Any, ax: Any, path: Path, *, xlabel: str, ylabel: str, title: str = "", legend: dict | None = None, grid: bool = True) -> Path:
    """Label, lay out, save as PNG and close."""
    import matplotlib.pyplot as plt

    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if xlabel in ("generation", "training step"):
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # no generation 0.5
    if title:
        ax.set_title(title)
    if grid:
        ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:  # a plot with no labelled artists needs no legend
        ax.legend(**(legend or {"fontsize": 8}))
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
