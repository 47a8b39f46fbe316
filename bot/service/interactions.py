"""The use cases behind an alert's buttons and the mute commands: acknowledge, unacknowledge,
snooze (and its one reminder when it runs out), rerun (bot/service/rerun.py), anomaly
feedback, mute and unmute. Each is audited: who (Slack id and email), what, on which
job/run/incident, and the result.

State changes are the store's claims (an ack is `UPDATE … WHERE acked_by IS NULL`), so two
people clicking at once make one acknowledgement and the loser is told who won. Everything
the channel sees goes through the outbox with a dedupe key derived from the incident's
version, so a retried click or a second replica never posts it twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from bot import actions
from bot.clock import Clock
from bot.config import Config
from bot.models import JobKey
from bot.render import Renderer
from bot.render.mrkdwn import escape, slack_date, slack_time, user_mention
from bot.service.clicks import (
    AlertsPort,
    Click,
    Refused,
    Replies,
    Reply,
    StorePort,
    channel_of,
    read_incident,
    read_value,
    reject,
    resolved_line,
)
from bot.service.permissions import AccessPort, DirectoryPort, Gatekeeper, Person
from bot.service.rerun import RerunPort, Reruns
from bot.store.records import Incident, IncidentKind, Mute, Verdict

log = logging.getLogger(__name__)

SNOOZE_HOURS = {"1h": 1, "4h": 4, "24h": 24}
TOMORROW_AT = time(9, 0)
# Reminders look back this far: a snooze that ended while the bot was down longer than this
# is not worth a line any more (the message itself shows the incident as it stands).
REMINDER_LOOKBACK = timedelta(days=2)

_VERDICTS = {
    actions.JOBS_FEEDBACK_EXPECTED: Verdict.EXPECTED,
    actions.JOBS_FEEDBACK_NOT_ANOMALY: Verdict.NOT_ANOMALY,
}


@dataclass(frozen=True)
class MuteResult:
    """What `/jobs mute` / `/jobs unmute` did, for the answer template."""

    done: bool
    mute: Mute | None  # the mute now in force (mute) or the one removed (unmute)
    refused: str | None = None  # why not, safe mrkdwn


class Interactions:
    def __init__(
        self,
        *,
        config: Config,
        clock: Clock,
        renderer: Renderer,
        store: StorePort,
        alerts: AlertsPort,
        jobs_api: RerunPort | None,
        directory: DirectoryPort | None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.store = store
        self.alerts = alerts
        # The cost scan's re-render of an anomaly once its feedback is stored (set by wiring).
        self.on_feedback: Callable[[int], object] | None = None
        self.replies = Replies(renderer)
        access: AccessPort | None = jobs_api
        self.gate = Gatekeeper(directory, access)
        self.reruns = Reruns(
            config=config,
            clock=clock,
            store=store,
            alerts=alerts,
            jobs_api=jobs_api,
            gate=self.gate,
            replies=self.replies,
        )

    # -- entry points (one per button) ---------------------------------------------------

    def acknowledge(self, click: Click) -> Reply | None:
        return self._guard(click, self._ack)

    def unacknowledge(self, click: Click) -> Reply | None:
        return self._guard(click, self._unack)

    def snooze(self, click: Click) -> Reply | None:
        return self._guard(click, self._snooze)

    def rerun(self, click: Click) -> Reply | None:
        return self._guard(click, self.reruns.rerun)

    def feedback(self, click: Click) -> Reply | None:
        return self._guard(click, self._feedback)

    def _guard(self, click: Click, work: Any) -> Reply | None:
        try:
            result: Reply | None = work(click)
        except Refused as e:
            return self.replies.say(e.line, "⚠️")
        return result

    # -- acknowledge ---------------------------------------------------------------------

    def _ack(self, click: Click) -> Reply | None:
        value = read_value(click, self.store.audit, email_of=self._email)
        incident = read_incident(click, value, self.store, self._email)
        who = self._allowed(click, incident, "ack", self.config.permissions.acknowledge)
        if not incident.is_open:
            self._audit("ack", "resolved", who, incident)
            return self.replies.say(self._resolved_line(incident), "✅")
        outcome = self.store.incidents.ack(incident.id, who.user_id, self.clock.now())
        if not outcome.won:
            current: Incident = outcome.incident or incident
            self._audit("ack", "lost", who, current, {"acked_by": current.acked_by})
            if current.acked_by == who.user_id:
                return self.replies.say("You already acknowledged this alert.", "👀")
            if current.acked_by is None:  # resolved in the meantime
                return self.replies.say(self._resolved_line(current), "✅")
            at = slack_date(current.acked_at, self.config.timezone, "{time}")
            return self.replies.say(
                f"{user_mention(current.acked_by)} acknowledged this alert first (at {at}).",
                "👀",
            )
        won: Incident = outcome.incident
        at = slack_time(won.acked_at or self.clock.now(), self.config.timezone)
        line = f"👀 Acknowledged by {user_mention(who.user_id)} at {at}"
        self._announce(won, click, f"ack:{won.version}", line)
        self._audit("ack", "ok", who, won)  # last: the click's record says it is all done
        return None

    def _unack(self, click: Click) -> Reply | None:
        value = read_value(click, self.store.audit, email_of=self._email)
        incident = read_incident(click, value, self.store, self._email)
        who = self._allowed(click, incident, "unack", self.config.permissions.acknowledge)
        outcome = self.store.incidents.unack(incident.id, who.user_id)
        if not outcome.won:
            current: Incident = outcome.incident or incident
            self._audit("unack", "lost", who, current)
            if not current.is_open:
                return self.replies.say(self._resolved_line(current), "✅")
            return self.replies.say("This alert is not acknowledged (any more).", "👀")
        won: Incident = outcome.incident
        line = f"↩️ Acknowledgement taken back by {user_mention(who.user_id)}"
        self._announce(won, click, f"unack:{won.version}", line)
        self._audit("unack", "ok", who, won, {"was_acked_by": incident.acked_by})
        return None

    # -- snooze --------------------------------------------------------------------------

    def snooze_until(self, choice: str, now: datetime) -> datetime:
        """1 h / 4 h / 24 h from now, or tomorrow 09:00 in the configured time zone."""
        if choice in SNOOZE_HOURS:
            return now + timedelta(hours=SNOOZE_HOURS[choice])
        local = now.astimezone(self.config.tz)
        tomorrow = local.date() + timedelta(days=1)
        return datetime.combine(tomorrow, TOMORROW_AT, tzinfo=self.config.tz).astimezone(now.tzinfo)

    def _snooze(self, click: Click) -> Reply | None:
        value = read_value(click, self.store.audit, actions.JOBS_SNOOZE, self._email)
        incident = read_incident(click, value, self.store, self._email)
        who = self._allowed(click, incident, "snooze", self.config.permissions.acknowledge)
        now = self.clock.now()
        until = self.snooze_until(value.snooze or "1h", now)
        if not incident.is_open:
            self._audit("snooze", "resolved", who, incident)
            return self.replies.say(
                self._resolved_line(incident) + " There is nothing left to snooze.", "✅"
            )
        outcome = self.store.incidents.snooze(incident.id, who.user_id, until)
        if not outcome.won:
            current = outcome.incident or incident
            self._audit("snooze", "resolved", who, current)
            return self.replies.say(
                self._resolved_line(current) + " There is nothing left to snooze.", "✅"
            )
        won: Incident = outcome.incident
        # "until 14:00" today; the date only when the snooze ends on another day (in the
        # configured zone): "until Tue 03 Mar at 09:00".
        when = slack_time(until, self.config.timezone, today=now)
        line = f"😴 Snoozed by {user_mention(who.user_id)} until {when}: no repeats until then"
        self._announce(won, click, f"snooze:{won.version}", line)
        self._audit("snooze", "ok", who, won, {"until": until.isoformat(), "choice": value.snooze})
        return None

    def remind_snoozes(self) -> int:
        """The periodic check: one thread line for each open incident whose snooze has run
        out. The dedupe key holds the snooze's end, so each snooze reminds once, however
        often this runs and on however many replicas. Returns how many it queued."""
        now = self.clock.now()
        queued = 0
        for incident in self.store.incidents.open_incidents():
            until = incident.snoozed_until
            if until is None or until > now or until < now - REMINDER_LOOKBACK:
                continue
            if incident.channel is None or incident.message_ts is None:
                continue
            why = f"snooze-ended:{int(until.timestamp())}"
            who = user_mention(incident.snoozed_by) if incident.snoozed_by else "someone"
            line = f"⏰ {who}, the snooze has ended and {_still(incident)}."
            # The message drops its "Snoozed until" line at the same time.
            self.alerts.enqueue_update(incident, incident.channel, why)
            self.alerts.enqueue_thread(incident, incident.channel, why, line)
            queued += 1
        # The same periodic job sends the outcomes of reruns without an alert (by DM to who
        # clicked): the scheduler has one job for the buttons' follow-ups. Its own failure
        # must not stop the reminders.
        try:
            self.follow_reruns()
        except Exception:
            log.exception("following reruns without an alert failed; trying again next time")
        return queued

    def follow_reruns(self) -> int:
        """Outcomes of ended reruns that had no alert to thread under
        (bot/service/rerun_follow.py), sent to the person who clicked. Returns how many it
        queued."""
        return self.reruns.follow_outcomes()

    # -- anomaly feedback ----------------------------------------------------------------

    def _feedback(self, click: Click) -> Reply | None:
        value = read_value(click, self.store.audit, email_of=self._email)
        verdict = _VERDICTS[click.action_id]
        key = value.key or ""
        scope, _, subject = key.partition(":")
        if not subject or value.day is None:
            reject(
                self.store.audit,
                click,
                self._email,
                detail={"action": click.action_id, "value": (click.value or "")[:500]},
            )
            raise Refused("This button's data is damaged, so nothing was recorded.")
        who = self.gate.person(click.user_id)
        # The anomaly's incident (the button's alert id), so the audit names which alert the
        # verdict was given on; a value without one (or one the store lost) names none.
        raw = value.alert_id or ""
        incident: Incident | None = self.store.incidents.get(int(raw)) if raw.isdigit() else None
        self.store.feedback.give(scope, subject, value.day, verdict, who.user_id)
        if self.on_feedback is not None and incident is not None:
            self.on_feedback(incident.id)  # the message now shows the verdict
        ws, _, job = subject.partition("/") if scope == "job" else ("", "", "")
        self.store.audit.record(
            "feedback",
            str(verdict),
            actor_id=who.user_id,
            actor_email=who.email,
            workspace_id=ws or (incident.workspace_id if incident is not None else None),
            job_id=job or (incident.job_id if incident is not None else None),
            incident_id=incident.id if incident is not None else None,
            detail={"scope": scope, "subject": subject, "day": value.day.isoformat()},
        )
        what = {
            Verdict.EXPECTED: "expected (a known, planned spend)",
            Verdict.NOT_ANOMALY: "not an anomaly (normal for it)",
        }[verdict]
        return self.replies.say(
            f"Thanks, recorded: the cost of {escape(scope)} `{escape(subject)}` on "
            f"{value.day.isoformat()} was {what}. The cost-anomaly detector reads these "
            "verdicts for this subject, so days like it stop being flagged; another click "
            "replaces your answer.",
            "🙏",
        )

    # -- mute / unmute (from /jobs) ------------------------------------------------------

    def mute(self, job: JobKey, job_name: str | None, until: datetime, user_id: str) -> MuteResult:
        who = self.gate.person(user_id)
        decision = self.gate.check(self.config.permissions.mute, who, "mute jobs")
        if not decision.allowed:
            self._audit_job("mute", "refused", who, job, {"via": decision.via}, job_name)
            return MuteResult(False, None, decision.why)
        mute = self.store.mutes.mute(job, who.user_id, until, job_name)
        detail = {"until": until.isoformat(), "via": decision.via}
        self._audit_job("mute", "ok", who, job, detail, job_name)
        self._refresh_job(job, f"mute:{int(mute.created_at.timestamp())}")
        return MuteResult(True, mute)

    def unmute(self, job: JobKey, user_id: str) -> MuteResult:
        who = self.gate.person(user_id)
        decision = self.gate.check(self.config.permissions.mute, who, "unmute jobs")
        if not decision.allowed:
            self._audit_job("unmute", "refused", who, job, {"via": decision.via})
            return MuteResult(False, None, decision.why)
        removed = self.store.mutes.unmute(job)
        name = removed.job_name if removed is not None else None
        self._audit_job("unmute", "ok" if removed else "not_muted", who, job, None, name)
        if removed is not None:
            self._refresh_job(job, f"unmute:{int(self.clock.now().timestamp())}")
        return MuteResult(removed is not None, removed)

    def unmute_click(self, click: Click) -> Reply | None:
        """The Unmute button on the `/jobs alerts` list."""

        def work(c: Click) -> Reply:
            value = read_value(c, self.store.audit, actions.JOBS_UNMUTE, self._email)
            job = JobKey(str(value.workspace_id), str(value.job_id))
            result = self.unmute(job, c.user_id)
            if result.refused:
                return self.replies.say(result.refused, "⚠️")
            if not result.done:
                return self.replies.say("That job is not muted (any more).", "🔔")
            name = escape(result.mute.job_name if result.mute else None) or f"job {job.job_id}"
            return self.replies.say(f"Unmuted *{name}*: its alerts are posted again.", "🔔")

        return self._guard(click, work)

    def _refresh_job(self, job: JobKey, why: str) -> None:
        # The open alert of the job shows (or stops showing) "🔇 Muted by …".
        for incident in self.store.incidents.open_incidents():
            same = (incident.workspace_id, incident.job_id) == (job.workspace_id, job.job_id)
            if same and incident.channel is not None:
                self.alerts.enqueue_update(incident, incident.channel, why)

    # -- helpers -------------------------------------------------------------------------

    def _email(self, user_id: str) -> str | None:
        return self.gate.email_for_audit(user_id)

    def _allowed(self, click: Click, incident: Incident, action: str, grant: Any) -> Person:
        who = self.gate.person(click.user_id)
        doing = {"ack": "acknowledge", "unack": "unacknowledge", "snooze": "snooze"}[action]
        decision = self.gate.check(grant, who, f"{doing} alerts")
        if not decision.allowed:
            self._audit(action, "refused", who, incident, {"via": decision.via})
            raise Refused(decision.why or "You are not allowed to do that.")
        return who

    def _announce(self, incident: Incident, click: Click, why: str, line: str) -> None:
        channel = channel_of(incident, click)
        if channel is None:
            log.warning("incident %s has no channel; its message cannot change", incident.id)
            return
        self.alerts.enqueue_update(incident, channel, why)
        self.alerts.enqueue_thread(incident, channel, why, line)

    def _resolved_line(self, incident: Incident) -> str:
        return resolved_line(incident, self.config.timezone)

    def _audit(
        self,
        action: str,
        result: str,
        who: Person,
        incident: Incident,
        detail: dict[str, Any] | None = None,
    ) -> None:
        self.store.audit.record(
            action,
            result,
            actor_id=who.user_id,
            actor_email=who.email,
            workspace_id=incident.workspace_id,
            job_id=incident.job_id,
            run_id=(incident.last_run_id or "").split("/")[0] or None,
            incident_id=incident.id,
            # The name as it was then, so `jobs-bot audit --job NAME` finds it.
            detail={**(detail or {}), "job_name": incident.job_name},
        )

    def _audit_job(
        self,
        action: str,
        result: str,
        who: Person,
        job: JobKey,
        detail: dict[str, Any] | None = None,
        job_name: str | None = None,
    ) -> None:
        self.store.audit.record(
            action,
            result,
            actor_id=who.user_id,
            actor_email=who.email,
            workspace_id=job.workspace_id,
            job_id=job.job_id,
            detail={**(detail or {}), "job_name": job_name},
        )


def _still(incident: Incident) -> str:
    """What is still wrong, by the incident's kind, for the end-of-snooze reminder."""
    kind = incident.kind
    if kind == IncidentKind.FAILURE:
        return f"this is still failing ({incident.streak} in a row)"
    if kind == IncidentKind.SLA:
        return "the SLA is still not met"
    if kind == IncidentKind.MISSED_RUN:
        return "the job has still not run"
    if kind == IncidentKind.COST_ANOMALY:
        return "this cost anomaly is still open"
    return "this alert is still open"
