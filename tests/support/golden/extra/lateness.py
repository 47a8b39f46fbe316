"""Golden cases for the SLA and missed-run alerts (templates/alert_sla.json.j2,
alert_missed.json.j2), built from incidents the way the use cases build them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.service.lateness_view import missed_run_alert, sla_alert
from bot.store.records import Incident, IncidentKind, IncidentState, Mute

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOSTILE = "<!channel> *boom* <http://evil|click> &amp;"


def _incident(
    kind: str, detail: dict[str, Any], *, resolved: bool = False, **over: Any
) -> Incident:
    values: dict[str, Any] = {
        "id": 41, "workspace_id": "1234567890", "job_id": "100", "kind": kind,
        "key": "deadline 07:00/2026-03-02", "job_name": detail["job_name"],
        "state": IncidentState.RESOLVED if resolved else IncidentState.OPEN,
        "first_failure_at": NOW - timedelta(hours=3), "last_failure_at": NOW - timedelta(hours=3),
        "streak": 1, "last_run_id": "breached@2026-03-02", "last_error": None, "detail": detail,
        "channel": "C02ALERTS", "message_ts": "1.1", "thread_ts": "1.1", "acked_by": None,
        "acked_at": None, "snoozed_by": None, "snoozed_until": None,
        "resolved_at": NOW if resolved else None, "resolved_run_id": None, "version": 3,
        "created_at": NOW - timedelta(hours=3), "updated_at": NOW,
    }  # fmt: skip
    values.update(over)
    return Incident(**values)


def _sla(state: str, **extra: Any) -> dict[str, Any]:
    return {
        "job_name": "nightly_sales", "job_url": "https://prod.example.com/jobs/100",
        "workspace": "prod", "owner": "ana.silva@example.com", "owner_id": "U01ALICE",
        "rule": "succeeded by 07:00 Mon–Fri (Europe/Amsterdam)", "state": state,
        "reason": "not running; a run takes 1h 00m (p90), so it would end 07:10 at the earliest (due 07:00)",
        "day": "2026-03-02", "day_label": "Mon 2 Mar", "deadline": "2026-03-02T06:00:00+00:00",
        "expected_finish": None, "late_by_seconds": None, "run_id": None, "run_url": None,
        **extra,
    }  # fmt: skip


def _missed(**extra: Any) -> dict[str, Any]:
    return {
        "job_name": "finance_gl_export", "job_url": "https://prod.example.com/jobs/100",
        "workspace": "prod", "owner": "ben.carter@example.com", "owner_id": None,
        "cron": "0 0 2 * * ?", "timezone": "Europe/Amsterdam",
        "expected_at": "2026-03-02T01:00:00+00:00",
        "expected_phrase": "at 02:00 Europe/Amsterdam, no run by 02:15", "source": "api",
        **extra,
    }  # fmt: skip


_MUTE = Mute("1234567890", "100", "nightly_sales", "U02BOB", NOW + timedelta(hours=4), NOW)

CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "alert_sla_at_risk": (
        "alert_sla.json.j2",
        {
            "a": sla_alert(
                _incident(
                    IncidentKind.SLA, _sla("at_risk", expected_finish="2026-03-02T06:10:00+00:00")
                ),
                now=NOW,
            )
        },
    ),
    "alert_sla_breached_failed_run": (
        "alert_sla.json.j2",
        {
            "a": sla_alert(
                _incident(
                    IncidentKind.SLA,
                    _sla(
                        "breached",
                        reason="last run failed; no successful run by 07:00",
                        run_id="9001",
                        run_url="https://prod.example.com/jobs/100/runs/9001",
                        late_by_seconds=180.0,
                    ),
                    acked_by="U01ALICE",
                    acked_at=NOW - timedelta(minutes=5),
                    snoozed_by="U02BOB",
                    snoozed_until=NOW + timedelta(hours=1),
                ),
                now=NOW,
                mute=_MUTE,
            )
        },
    ),  # fmt: skip
    "alert_sla_met_late": (
        "alert_sla.json.j2",
        {
            "a": sla_alert(
                _incident(
                    IncidentKind.SLA,
                    _sla(
                        "met_late",
                        reason="succeeded at 07:25, 25m 00s late (due 07:00)",
                        late_by_seconds=1500.0,
                    ),
                    resolved=True,
                ),
                now=NOW,
            )
        },
    ),  # fmt: skip
    "alert_sla_hostile": (
        "alert_sla.json.j2",
        {
            "a": sla_alert(
                _incident(
                    IncidentKind.SLA,
                    _sla(
                        "breached", job_name=HOSTILE, owner=HOSTILE, owner_id=None, reason=HOSTILE
                    ),
                ),
                now=NOW,
            )
        },
    ),  # fmt: skip
    "alert_missed": (
        "alert_missed.json.j2",
        {"a": missed_run_alert(_incident(IncidentKind.MISSED_RUN, _missed(), streak=3), now=NOW)},
    ),
    "alert_missed_tables_hostile": (
        "alert_missed.json.j2",
        {
            "a": missed_run_alert(
                _incident(
                    IncidentKind.MISSED_RUN,
                    _missed(source="tables", job_name=HOSTILE, cron="0 0 2 * * ? <!here>"),
                ),
                now=NOW,
            )
        },
    ),  # fmt: skip
    "alert_missed_resolved": (
        "alert_missed.json.j2",
        {
            "a": missed_run_alert(
                _incident(
                    IncidentKind.MISSED_RUN,
                    _missed(resolution="▶️ A run started at 02:40, 40m 00s after it was expected."),
                    resolved=True,
                ),
                now=NOW,
            )
        },
    ),  # fmt: skip
}
