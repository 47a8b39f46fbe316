"""The roll-up: the step between the alert use cases and the outbox that turns a flood into one
message. When more than `monitoring.rollup_after_alerts` first posts head for one channel
within `monitoring.rollup_window_seconds`, the next ones are not posted alone: one roll-up
message per channel ("🔥 37 jobs failed in prod-emea since 10:02 — top errors: …") is
posted and updated in place, and every incident's own alert goes into its thread.

`route(channel, incident, message)` decides, per first post: False — post it alone (the
caller enqueues as before); True — it is in the roll-up now. The roll-up is an incident of
kind MONITORING keyed "rollup:<channel>:<window start>", so the outbox holds its thread
replies until its own post has a ts, exactly as for any alert. The alerts posted alone just
before the roll-up started get one line each in the thread too, so the thread lists every
incident of the burst once.

Each incident still resolves by itself: once an incident's entry in the thread is sent,
`sync()` makes that entry the incident's own message (its ts, threaded under the roll-up),
so its later updates edit the entry and its thread lines land in the roll-up's thread. Until
then they wait in the outbox, as updates of any unsent alert do. A roll-up stays open while
alerts keep coming; a window without any closes it (resolved, with a last update), and the
next burst starts counting afresh.

The roll-up's counts are refreshed at most every UPDATE_EVERY (an edit per alert would use up
the channel's one-message-a-second budget the thread entries need), and `sync()` — a tick
every few seconds — sends the final count. State per channel lives in a watermark
("rollup", channel); one lock serialises the pollers' threads in this process (the pollers
run under a lease, one replica at a time).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.clock import Clock
from bot.config import Config
from bot.render import Renderer
from bot.render.mrkdwn import escape, truncate_text
from bot.store.records import Incident, IncidentKey, IncidentKind, OutboxKind, OutboxState

log = logging.getLogger(__name__)

STATE = "rollup"  # watermark name; the watermark's second key is the channel
KEY_PREFIX = "rollup:"
UPDATE_EVERY = timedelta(seconds=15)
TOP_ERRORS = 3
ERROR_CHARS = 120


class StorePort(Protocol):
    incidents: Any
    outbox: Any
    watermarks: Any


@dataclass(frozen=True)
class ErrorCount:
    text: str
    count: int


@dataclass(frozen=True)
class RollupView:
    """The roll-up message as its template sees it."""

    count: int
    failures: int
    kinds_phrase: str  # "30 failures, 2 cost anomalies" (our own words)
    where: tuple[str, ...]  # workspaces, most alerts first
    since: datetime
    last: datetime
    top_errors: tuple[ErrorCount, ...]
    more_errors: int
    open: bool


_KIND_NAMES = {  # (one, many)
    IncidentKind.FAILURE.value: ("failure", "failures"),
    IncidentKind.SLA.value: ("SLA alert", "SLA alerts"),
    IncidentKind.MISSED_RUN.value: ("missed run", "missed runs"),
    IncidentKind.COST_ANOMALY.value: ("cost anomaly", "cost anomalies"),
    IncidentKind.MONITORING.value: ("monitoring notice", "monitoring notices"),
}


class Rollup:
    def __init__(
        self,
        *,
        config: Config,
        clock: Clock,
        renderer: Renderer,
        store: StorePort,
        on_enqueue: Callable[[], None] | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.renderer = renderer
        self.store = store
        self._poke = on_enqueue or (lambda: None)
        self._lock = threading.Lock()
        self._busy = False

    @property
    def window(self) -> timedelta:
        return timedelta(seconds=self.config.monitoring.rollup_window_seconds)

    @property
    def limit(self) -> int:
        return self.config.monitoring.rollup_after_alerts

    # -- the decision --------------------------------------------------------------------

    def route(self, channel: str, incident: Incident, message: dict[str, Any]) -> bool:
        """Where this incident's first post goes: False — alone (the caller posts it);
        True — into the channel's roll-up (this call queued it there)."""
        now = self.clock.now()
        if self.store.outbox.find(f"incident:{incident.id}:post") is not None:
            # The same first post routed again (a run reported twice): it went alone before,
            # and the caller's enqueue adds nothing (same dedupe key).
            return False
        with self._lock:
            state = self._load(channel)
            active = state.get("active")
            if active is not None and now - _at(active["last"]) > self.window:
                self._close(channel, active, now)
                active = state["active"] = None
            recent = [r for r in state.get("recent", []) if now - _at(r["at"]) <= self.window]
            state["recent"] = recent
            if active is None and len(recent) + 1 <= self.limit:
                recent.append(_member(incident, now))
                self._save(channel, state)
                return False
            if active is None:
                state["active"] = self._open(channel, recent, incident, message, now)
                state["recent"] = []
            else:
                self._add(active, incident, message, now)
                self._refresh(active, now, force=False)
            self._save(channel, state)
        return True

    def sync(self) -> int:
        """The tick (every few seconds): link thread entries Slack has accepted to their
        incidents, send the roll-ups' latest counts, close roll-ups a window has gone
        quiet on. Returns how many incidents were linked."""
        now = self.clock.now()
        linked = 0
        with self._lock:
            still_open = False
            for rollup in self.store.incidents.open_incidents(IncidentKind.MONITORING):
                if not rollup.key.startswith(KEY_PREFIX):
                    continue
                channel = str((rollup.detail or {}).get("channel") or "")
                state = self._load(channel)
                active = state.get("active")
                if active is None or active.get("incident_id") != rollup.id:
                    continue
                linked += self._link(rollup, active)
                if now - _at(active["last"]) > self.window:
                    self._close(channel, active, now)
                    state["active"] = None
                else:
                    self._refresh(active, now, force=True)
                    still_open = True
                self._save(channel, state)
            self._busy = still_open
        return linked

    def due(self) -> datetime | None:
        """When `sync()` next has a roll-up to close (a window after its last alert), or
        None when none is open: for callers that tick on demand (the replay)."""
        found: list[datetime] = []
        with self._lock:
            for rollup in self.store.incidents.open_incidents(IncidentKind.MONITORING):
                if not rollup.key.startswith(KEY_PREFIX):
                    continue
                active = self._load(str((rollup.detail or {}).get("channel") or "")).get("active")
                if active is not None and active.get("incident_id") == rollup.id:
                    found.append(_at(active["last"]) + self.window + timedelta(seconds=1))
        return min(found, default=None)

    def is_rollup(self, incident: Incident) -> bool:
        return incident.kind == IncidentKind.MONITORING and incident.key.startswith(KEY_PREFIX)

    # -- the roll-up's life ----------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """Whether this process opened a roll-up that `sync()` has not closed yet (a hint for
        callers that tick rarely, like the replay; `sync()` itself always asks the store)."""
        return self._busy

    def _open(
        self,
        channel: str,
        alone: list[dict[str, Any]],
        incident: Incident,
        message: dict[str, Any],
        now: datetime,
    ) -> dict[str, Any]:
        since = _at(alone[0]["at"]) if alone else now
        key = IncidentKey(
            "", "", IncidentKind.MONITORING, f"{KEY_PREFIX}{channel}:{since:%Y%m%dT%H%M%S}"
        )
        outcome = self.store.incidents.open_or_bump_failure(
            key, "rollup", since, None, job_name=None, detail={"channel": channel}
        )
        rollup: Incident = outcome.incident
        active: dict[str, Any] = {
            "incident_id": rollup.id,
            "channel": channel,
            "since": since.isoformat(),
            "last": now.isoformat(),
            "members": [],
            "unlinked": [],
            "shown": 0,
            "shown_at": None,
        }
        active["members"].extend(alone)
        active["members"].append(_member(incident, now))
        self.store.outbox.enqueue(
            dedupe_key=f"incident:{rollup.id}:post",
            channel=channel,
            kind=OutboxKind.POST,
            payload=self._render(active),
            incident_id=rollup.id,
        )
        # The thread in order: the alerts posted alone first, then the ones rolled up.
        for m in alone:
            line = f"• {m['line']} — posted on its own, above"
            self._thread(rollup.id, channel, f"alone:{m['id']}", line)
        active["members"].pop()
        self._add(active, incident, message, now)
        active["shown"] = len(active["members"])
        active["shown_at"] = now.isoformat()
        self._busy = True
        return active

    def _add(
        self, active: dict[str, Any], incident: Incident, message: dict[str, Any], now: datetime
    ) -> None:
        if any(m["id"] == incident.id for m in active["members"]):
            return  # the same incident routed twice (a retried poll): once in the thread
        rollup_id = active["incident_id"]
        self.store.outbox.enqueue(
            dedupe_key=_entry_key(rollup_id, incident.id),
            channel=str(self._channel_of(active)),
            kind=OutboxKind.THREAD_REPLY,
            payload=message,
            incident_id=rollup_id,
        )
        active["members"].append(_member(incident, now))
        active["unlinked"].append(incident.id)
        active["last"] = now.isoformat()
        self._poke()

    def _refresh(self, active: dict[str, Any], now: datetime, *, force: bool) -> None:
        count = len(active["members"])
        if count == active.get("shown"):
            return
        shown_at = active.get("shown_at")
        if not force and shown_at is not None and now - _at(shown_at) < UPDATE_EVERY:
            return
        self._update(active, f"n{count}")
        active["shown"] = count
        active["shown_at"] = now.isoformat()

    def _close(self, channel: str, active: dict[str, Any], now: datetime) -> None:
        rollup = self.store.incidents.get(active["incident_id"])
        if rollup is not None:
            self.store.incidents.resolve(rollup.incident_key, now)
        self._update(active, f"closed:n{len(active['members'])}", closed=True)

    def _link(self, rollup: Incident, active: dict[str, Any]) -> int:
        if not rollup.message_ts:
            return 0
        thread = rollup.thread_ts or rollup.message_ts
        still: list[int] = []
        linked = 0
        for member_id in active["unlinked"]:
            row = self.store.outbox.find(_entry_key(rollup.id, member_id))
            if row is None or row.state is not OutboxState.SENT or not row.slack_ts:
                still.append(member_id)
                continue
            where = rollup.channel or self._channel_of(active)
            self.store.incidents.set_message(member_id, where, row.slack_ts, thread)
            linked += 1
        active["unlinked"] = still
        if linked:
            self._poke()  # the members' waiting updates can go now
        return linked

    # -- messages ------------------------------------------------------------------------

    def view(self, active: dict[str, Any], *, closed: bool = False) -> RollupView:
        members = active["members"]
        kinds = Counter(str(m.get("kind") or IncidentKind.FAILURE) for m in members)
        errors = Counter(m["error"] for m in members if m.get("error"))
        places = Counter(m["where"] for m in members if m.get("where"))
        top = errors.most_common(TOP_ERRORS)
        return RollupView(
            count=len(members),
            failures=kinds.get(IncidentKind.FAILURE.value, 0),
            kinds_phrase=", ".join(
                f"{n} {_KIND_NAMES.get(k, (k, k))[0 if n == 1 else 1]}"
                for k, n in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))
            ),
            where=tuple(name for name, _ in places.most_common()),
            since=_at(active["since"]),
            last=_at(active["last"]),
            top_errors=tuple(ErrorCount(text, n) for text, n in top),
            more_errors=max(0, len(errors) - len(top)),
            open=not closed,
        )

    def _render(self, active: dict[str, Any], *, closed: bool = False) -> dict[str, Any]:
        return self.renderer.render("rollup.json.j2", r=self.view(active, closed=closed))

    def _update(self, active: dict[str, Any], why: str, *, closed: bool = False) -> None:
        rollup_id = active["incident_id"]
        self.store.outbox.enqueue(
            dedupe_key=f"incident:{rollup_id}:update:{why}",
            channel=str(self._channel_of(active)),
            kind=OutboxKind.UPDATE,
            payload=self._render(active, closed=closed),
            incident_id=rollup_id,
        )
        self._poke()

    def _thread(self, rollup_id: int, channel: str, why: str, line: str) -> None:
        message = self.renderer.render("alert_thread.json.j2", line=line, quote=None)
        self.store.outbox.enqueue(
            dedupe_key=f"rollup:{rollup_id}:{why}",
            channel=channel,
            kind=OutboxKind.THREAD_REPLY,
            payload=message,
            incident_id=rollup_id,
        )
        self._poke()

    def _channel_of(self, active: dict[str, Any]) -> str:
        return str(active["channel"])

    # -- state ---------------------------------------------------------------------------

    def _load(self, channel: str) -> dict[str, Any]:
        mark = self.store.watermarks.get(STATE, channel)
        return dict(mark.value) if mark is not None else {"recent": [], "active": None}

    def _save(self, channel: str, state: dict[str, Any]) -> None:
        self.store.watermarks.set(STATE, state, channel)


def _entry_key(rollup_id: int, incident_id: int) -> str:
    return f"rollup:{rollup_id}:member:{incident_id}"


def is_member_key(dedupe_key: str) -> int | None:
    """The incident whose alert an outbox row puts in a roll-up's thread, if it is one."""
    parts = dedupe_key.split(":")
    if len(parts) == 4 and parts[0] == "rollup" and parts[2] == "member" and parts[3].isdigit():
        return int(parts[3])
    return None


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _member(incident: Incident, now: datetime) -> dict[str, Any]:
    """What the roll-up keeps of one incident: enough to count and to name it."""
    d = incident.detail or {}
    tasks = d.get("tasks") or ()
    error = next((t.get("error") for t in tasks if t.get("error")), None)
    error = error or d.get("message") or d.get("code") or incident.last_error
    if incident.kind != IncidentKind.FAILURE:
        error = None  # "top errors" are failures' errors; other kinds are counted by kind
    first_line = " ".join(str(error).strip().splitlines()[:1]).strip() if error else ""
    name = incident.job_name or d.get("job_name") or d.get("name") or f"job {incident.job_id}"
    return {
        "id": incident.id,
        "at": now.isoformat(),
        "kind": incident.kind,
        "where": d.get("workspace") or incident.workspace_id or None,
        "error": truncate_text(first_line, ERROR_CHARS) if first_line else None,
        "line": f"*{escape(name)}*"
        + (f": {escape(truncate_text(first_line, 200))}" if first_line else ""),
    }
