"""Numbers and times as people read them in Slack: durations, money, changes, ages, sparklines.

Pure functions; the template filters in bot/render/renderer.py are these. None always renders as "—" so a
missing value is visible rather than an error or a misleading zero.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.clock import as_utc

MISSING = "—"
MINUS = "\u2212"  # a real minus sign lines up with "+" in proportional fonts

_BARS = "▁▂▃▄▅▆▇█"
_CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹"}


def duration(value: float | int | timedelta | None) -> str:
    """Seconds (or a timedelta) as "42s", "3m 05s", "1h 02m" or "2d 3h"; two units at most."""
    if value is None:
        return MISSING
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if math.isnan(seconds):
        return MISSING
    total = max(0, round(seconds))
    if total < 60:
        return f"{total}s"
    if total < 3600:
        return f"{total // 60}m {total % 60:02d}s"
    if total < 86400:
        return f"{total // 3600}h {total % 3600 // 60:02d}m"
    return f"{total // 86400}d {total % 86400 // 3600}h"


def money(value: float | int | None, currency: str = "USD", decimals: int = 2) -> str:
    """ "$1,234.56", "$0.42", "€12.00", "CHF 5.00"; negative amounts as "−$3.00"."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    code = currency.upper()
    symbol = _CURRENCY_SYMBOLS.get(code)
    number = f"{abs(value):,.{decimals}f}"
    body = f"{symbol}{number}" if symbol else f"{code} {number}"
    return f"{MINUS}{body}" if value < 0 and float(number.replace(",", "")) != 0 else body


def pct(value: float | None, arrow: bool = False) -> str:
    """A change given as a fraction (0.12) as "+12%" / "−8%"; `arrow` adds ▲/▼.

    Under 10% one decimal is kept ("+3.5%") so small moves do not all read as "+0%" or "+3%".
    None (no previous value to compare with) is shown as "new".
    """
    if value is None or math.isnan(value):
        return "new"
    if math.isinf(value):
        return "new"
    percent = value * 100
    rounded = round(percent, 1) if abs(percent) < 10 else round(percent)
    if rounded == 0:
        text = "0%"
    else:
        number = f"{abs(rounded):g}" if isinstance(rounded, float) else f"{abs(rounded):,}"
        text = f"+{number}%" if rounded > 0 else f"{MINUS}{number}%"
    if not arrow:
        return text
    if rounded > 0:
        return f"▲ {text}"
    if rounded < 0:
        return f"▼ {text}"
    return f"• {text}"


def ago(value: datetime | None, now: datetime) -> str:
    """How long ago (or how far ahead) an instant is: "just now", "5m ago", "in 3h"."""
    if value is None:
        return MISSING
    delta = (as_utc(now) - as_utc(value)).total_seconds()
    if abs(delta) < 45:
        return "just now"
    amount = _coarse(abs(delta))
    return f"{amount} ago" if delta > 0 else f"in {amount}"


def clock_time(value: datetime | None, tz: str = "UTC", today: datetime | None = None) -> str:
    """An instant as a time of day labelled with its zone: "07:00 CET" (naive means UTC); with
    `today` (an instant of the day meant), one on another day in `tz` gets its date too:
    "Sun 01 Mar 22:14 CET".

    For plain text, where a bare "07:00" next to a Slack date (shown in each reader's own
    zone) could be read in either zone."""
    if value is None:
        return MISSING
    zone = ZoneInfo(tz)
    local = as_utc(value).astimezone(zone)
    if today is not None and local.date() != as_utc(today).astimezone(zone).date():
        return local.strftime("%a %d %b %H:%M %Z")
    return local.strftime("%H:%M %Z")


def sparkline(values: Sequence[float | int | None]) -> str:
    """▁▂▃▄▅▆▇█ scaled between the series' min and max; None is a gap (a space).

    A flat series is a flat line at mid height (or the floor when it is all zero) so it
    does not read as a spike.
    """
    present = [float(v) for v in values if v is not None and not math.isnan(float(v))]
    if not present:
        return " " * len(values) if values else ""
    low, high = min(present), max(present)
    out = []
    for v in values:
        if v is None or math.isnan(float(v)):
            out.append(" ")
        elif high == low:
            out.append(_BARS[0] if high == 0 else _BARS[3])
        else:
            index = int((float(v) - low) / (high - low) * (len(_BARS) - 1) + 0.5)
            out.append(_BARS[index])
    return "".join(out)


def _coarse(seconds: float) -> str:
    # "3h ago" reads better than "3h 02m ago"; one unit is enough for recency.
    s = round(seconds)
    if s < 3600:
        return f"{max(1, s // 60)}m"
    if s < 86400:
        return f"{s // 3600}h"
    return f"{s // 86400}d"
