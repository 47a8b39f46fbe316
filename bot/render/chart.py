"""Charts as PNG bytes, pure: data in, image out (no files, no network, no global state).

matplotlib with its Agg canvas on a `Figure` built here, not `pyplot`: pyplot keeps a global
figure registry and picks a GUI backend, neither of which a bot rendering on worker threads
wants. The PNG carries no "Software"/date metadata, so the same data gives the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from bot.render.formatting import money

# A colour-blind-safe qualitative palette (Okabe–Ito), grey last for "other".
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
OTHER = "#999999"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Series:
    label: str
    values: tuple[float, ...]  # one per day


def daily_cost_png(
    days: Sequence[date],
    series: Sequence[Series],
    *,
    title: str,
    currency: str = "USD",
    width_px: int = 960,
    height_px: int = 540,
) -> bytes:
    """Stacked daily bars, one colour per series, a legend and money on the y axis. Empty
    or all-zero data still draws (an empty chart says "no spend"), never raises."""
    for s in series:
        if len(s.values) != len(days):
            raise ValueError(f"series {s.label!r} has {len(s.values)} values for {len(days)} days")
    dpi = 96
    fig = Figure(figsize=(width_px / dpi, height_px / dpi), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    positions = list(range(len(days)))
    bottom = [0.0] * len(days)
    for i, s in enumerate(series):
        colour = OTHER if s.label == "other teams" else PALETTE[i % len(PALETTE)]
        ax.bar(positions, s.values, bottom=bottom, label=s.label, color=colour, width=0.7)
        bottom = [b + v for b, v in zip(bottom, s.values, strict=True)]
    ax.set_xticks(positions, [f"{d:%a}\n{d:%-d %b}" for d in days])
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: money(v, currency, 0)))
    ax.set_title(title, loc="left", fontsize=13)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    if not any(bottom):
        ax.set_ylim(0, 1)
        ax.text(0.5, 0.5, "no spend", transform=ax.transAxes, ha="center", color=OTHER)
    if series:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=9)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()
