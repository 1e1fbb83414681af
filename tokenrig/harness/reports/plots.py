"""Batch plots for the HTML report, rendered with matplotlib's Agg backend to PNG bytes.

A histogram shows where a batch's drift sits against the limits at a glance; offsets over the
soak show each token's line (and which one bends away). PNGs are embedded in the page, so the
report is one file that can be mailed or attached to a ticket.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

from tokenrig.harness.qualify.measurement import Limits
from tokenrig.harness.qualify.record import BatchRecord


def _png(fig: object) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")  # type: ignore[attr-defined]
    plt.close(fig)  # type: ignore[arg-type]
    return buffer.getvalue()


def drift_histogram(batch: BatchRecord, limits: Limits | None) -> bytes | None:
    values = [m.value for t in batch.tokens if (m := t.measurement("drift.ppm")) is not None]
    if not values:
        return None
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    ax.hist(values, bins=max(5, min(40, len(values) // 2 or 1)), color="#4c72b0")
    if limits is not None:
        for edge in (limits.low, limits.high):
            if edge is not None:
                ax.axvline(edge, color="#c44e52", linestyle="--", linewidth=1)
    ax.set_xlabel("drift (ppm)")
    ax.set_ylabel("tokens")
    ax.set_title(f"Drift of {len(values)} tokens")
    return _png(fig)


def offset_over_time(batch: BatchRecord, max_lines: int = 200) -> bytes | None:
    series = [t for t in batch.tokens if len(t.offset_series) >= 2][:max_lines]
    if not series:
        return None
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    for t in series:
        days = [p[0] for p in t.offset_series]
        offsets = [p[1] for p in t.offset_series]
        color = "#c44e52" if t.verdict == "fail" else "#4c72b0"
        ax.plot(days, offsets, marker=".", linewidth=0.8, color=color, alpha=0.7)
    ax.set_xlabel("days since sync")
    ax.set_ylabel("clock offset (s)")
    ax.set_title("Clock offset over the soak (red: failed tokens)")
    return _png(fig)


def token_offsets(series: list[tuple[float, float]], title: str) -> bytes | None:
    """One token's offsets over its soak (for the allure attachment of its drift test)."""
    if len(series) < 2:
        return None
    fig, ax = plt.subplots(figsize=(5.0, 2.6))
    ax.plot([p[0] for p in series], [p[1] for p in series], marker="o", color="#4c72b0")
    ax.set_xlabel("days since sync")
    ax.set_ylabel("clock offset (s)")
    ax.set_title(title)
    return _png(fig)
