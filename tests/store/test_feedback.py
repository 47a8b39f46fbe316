"""Anomaly feedback: the Expected / Not an anomaly buttons, remembered per subject and day."""

from __future__ import annotations

from datetime import date, timedelta

from bot.clock import FixedClock
from bot.store import Store, Verdict
from tests.store.conftest import START


def test_a_verdict_is_remembered_and_a_second_click_replaces_it(
    store: Store, clock: FixedClock
) -> None:
    day = date(2026, 3, 2)
    store.feedback.give("job", "1001:42", day, Verdict.EXPECTED, "U_ANA")
    clock.set(START + timedelta(minutes=1))
    store.feedback.give("job", "1001:42", day, Verdict.NOT_ANOMALY, "U_BEN")
    store.feedback.give("job", "1001:42", day - timedelta(days=7), Verdict.EXPECTED, "U_ANA")
    store.feedback.give("sku", "JOBS_COMPUTE", day, Verdict.EXPECTED, "U_ANA")
    verdicts = store.feedback.for_subject("job", "1001:42")
    assert [(v.day, v.verdict, v.given_by) for v in verdicts] == [
        (day - timedelta(days=7), Verdict.EXPECTED, "U_ANA"),
        (day, Verdict.NOT_ANOMALY, "U_BEN"),
    ]
    assert verdicts[1].at == START + timedelta(minutes=1)
    assert [v.day for v in store.feedback.for_subject("job", "1001:42", since=day)] == [day]
