"""The chart is a real PNG of the size asked, the same bytes for the same data, and refuses
series that do not match the days."""

from __future__ import annotations

import struct
import zlib
from datetime import date, timedelta

import pytest

from bot.render.chart import PNG_SIGNATURE, Series, daily_cost_png

DAYS = [date(2026, 3, 2) + timedelta(days=i) for i in range(7)]


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, after checking the signature and its CRC."""
    assert png[:8] == PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", png[8:16])
    assert kind == b"IHDR" and length == 13
    body = png[16 : 16 + length]
    (crc,) = struct.unpack(">I", png[16 + length : 20 + length])
    assert zlib.crc32(kind + body) == crc
    width, height = struct.unpack(">II", body[:8])
    return width, height


def test_png_of_stacked_days():
    series = [Series("finance", (5.0,) * 7), Series("other teams", (1, 2, 3, 4, 5, 6, 7))]
    png = daily_cost_png(DAYS, series, title="Daily cost", currency="EUR")
    assert png_size(png) == (960, 540)
    assert png.endswith(b"IEND\xaeB`\x82")
    assert daily_cost_png(DAYS, series, title="Daily cost", currency="EUR") == png
    assert b"Software" not in png  # no version stamp: the bytes depend on the data alone


def test_no_spend_still_draws_and_bad_series_raise():
    assert png_size(daily_cost_png(DAYS, [], title="Nothing")) == (960, 540)
    with pytest.raises(ValueError, match="3 values for 7 days"):
        daily_cost_png(DAYS, [Series("x", (1.0, 2.0, 3.0))], title="x")
