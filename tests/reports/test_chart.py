"""The chart is a real PNG of the size asked, the same bytes for the same data, and refuses
series that do not match the days."""

from __future__ import annotations

import pytest

from bot.render.chart import Series, daily_cost_png
from tests.support.chart import DAYS, png_size


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
