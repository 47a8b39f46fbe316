"""The feedback on cost anomalies as the scan reads it back: the marks `bot.monitors.cost`
weighs for a subject and day (the last FEEDBACK_MEMORY_DAYS), and the mark an incident's own
day has (which resolves it and shows in its message).

Feedback (the Expected / Not an anomaly buttons, recorded by the click listener in
`store.feedback` under scope "job" and subject "<workspace_id>/<job_id>"), read back by the
cost scan on every scan:
- **Expected** for a day: that job (workspace, SKU) raises nothing more on that day; its
  open alert resolves and shows who marked it.
- **Not an anomaly** for a day: from that day on, for FEEDBACK_MEMORY_DAYS, the subject's
  threshold is multiplied by 1.5 per mark (at most 3 marks, ×3.4): a jump like the one
  marked no longer alerts, a much bigger one still does. Its open alert resolves too.
The message shows the feedback either way (`CostScan.render`), and a click can re-render it
at once with `CostScan.refresh(incident_id)`.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Protocol

from bot.monitors import cost as monitor
from bot.store.records import AnomalyFeedback, Incident
from bot.store.records import Verdict as FeedbackVerdict

# A "not an anomaly" mark raises the job's threshold for this long; after it, the job is
# judged on its baseline alone again (a job's normal changes over a quarter).
FEEDBACK_MEMORY_DAYS = 90


class FeedbackStorePort(Protocol):
    """bot.store.Store by shape: its feedback records."""

    feedback: Any


class CostFeedback:
    """Reads the feedback given on cost subjects."""

    def __init__(self, store: FeedbackStorePort) -> None:
        self.store = store

    def marks(self, scope: str, subject: str, day: date) -> list[monitor.Feedback]:
        since = day - timedelta(days=FEEDBACK_MEMORY_DAYS)
        given: list[AnomalyFeedback] = self.store.feedback.for_subject(scope, subject, since)
        return [
            monitor.Feedback(key=f"{scope}:{subject}", day=f.day, kind=f.verdict.value)
            for f in given
        ]

    def mark(self, incident: Incident) -> AnomalyFeedback | None:
        d = incident.detail or {}
        scope, _, subject = str(d.get("key") or "").partition(":")
        day = date.fromisoformat(str(d["day"]))
        given: list[AnomalyFeedback] = self.store.feedback.for_subject(scope, subject, day)
        return next((f for f in given if f.day == day), None)

    def verdict(self, incident: Incident) -> FeedbackVerdict | None:
        mark = self.mark(incident)
        return mark.verdict if mark is not None else None
