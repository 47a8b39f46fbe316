"""The outbox: every Slack message is written here before it is sent and marked after, so a
crash at any point neither loses it nor (short of a crash mid-send) repeats it.

A row goes pending → sending (claimed by one notifier) → sent, or back to pending with a
retry time, or failed. Claims are conditional UPDATEs; a claim expires after its lease, so a
notifier that died mid-send does not strand the row — that is the one case that may send
twice (Slack gave us no ts to record), which beats losing an alert.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, delete, exists, func, select, update
from sqlalchemy.sql.elements import ColumnElement

from bot.clock import Clock
from bot.store import incidents, schema
from bot.store.database import Database
from bot.store.records import OutboxKind, OutboxMessage, OutboxState

_t = schema.outbox
_inc = schema.incidents

# A claim lasts this long unless the notifier marks the row first: far longer than one Slack
# call with its retries, so only a dead notifier's rows are taken over.
CLAIM_LEASE = timedelta(minutes=2)

# How many due rows one claim looks at; each is tried with its own conditional UPDATE, so a
# row another notifier takes meanwhile is just skipped.
_CANDIDATES = 8


def _message(row: Row[Any]) -> OutboxMessage:
    values = dict(row._mapping)
    values["kind"] = OutboxKind(values["kind"])
    values["state"] = OutboxState(values["state"])
    return OutboxMessage(**values)


def _claimable(now: datetime) -> ColumnElement[bool]:
    due = (_t.c.state == OutboxState.PENDING.value) & (_t.c.next_attempt_at <= now)
    abandoned = (_t.c.state == OutboxState.SENDING.value) & (_t.c.claimed_until <= now)
    # An update or thread reply needs its incident's message ts: it waits until the alert's
    # own post has been sent (which records the ts on the incident).
    needs_parent = _t.c.kind.in_([OutboxKind.UPDATE.value, OutboxKind.THREAD_REPLY.value]) & (
        _t.c.incident_id.is_not(None)
    )
    parent_sent = exists().where((_inc.c.id == _t.c.incident_id) & _inc.c.message_ts.is_not(None))
    return (due | abandoned) & (~needs_parent | parent_sent)


def _held(message: OutboxMessage) -> ColumnElement[bool]:
    # The claim token is (id, attempts): a claim that expired and was taken over has a higher
    # attempt count, so the slow first notifier can no longer mark the row.
    return (
        (_t.c.id == message.id)
        & (_t.c.state == OutboxState.SENDING.value)
        & (_t.c.attempts == message.attempts)
    )


class Outbox:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def enqueue(
        self,
        *,
        dedupe_key: str,
        channel: str,
        kind: OutboxKind,
        payload: dict[str, Any],
        incident_id: int | None = None,
        not_before: datetime | None = None,
    ) -> bool:
        """Add a message unless one with this dedupe key exists (ever: a sent alert is not
        enqueued again). True if this call added it."""
        now = self._clock.now()
        values = {
            "incident_id": incident_id,
            "channel": channel,
            "kind": OutboxKind(kind).value,
            "payload": payload,
            "dedupe_key": dedupe_key,
            "state": OutboxState.PENDING.value,
            "attempts": 0,
            "next_attempt_at": not_before or now,
            "created_at": now,
        }
        with self._db.transaction() as conn:
            row = conn.execute(
                self._db.insert_ignore(_t, values, ["dedupe_key"]).returning(_t.c.id)
            ).first()
        return row is not None

    def claim_next(
        self, channel: str | None = None, lease: timedelta = CLAIM_LEASE
    ) -> OutboxMessage | None:
        """Take the oldest due message (of `channel`, or any) for sending, or None. Exactly
        one caller gets each row."""
        now = self._clock.now()
        query = select(_t.c.id).where(_claimable(now))
        if channel is not None:
            query = query.where(_t.c.channel == channel)
        query = query.order_by(_t.c.next_attempt_at, _t.c.id).limit(_CANDIDATES)
        with self._db.transaction() as conn:
            for candidate in conn.execute(query).scalars().all():
                row = conn.execute(
                    update(_t)
                    .where((_t.c.id == candidate) & _claimable(now))
                    .values(
                        state=OutboxState.SENDING.value,
                        attempts=_t.c.attempts + 1,
                        claimed_until=now + lease,
                    )
                    .returning(*_t.c)
                ).first()
                if row is not None:
                    return _message(row)
        return None

    def mark_sent(self, message: OutboxMessage, ts: str | None, channel: str | None = None) -> bool:
        """Record that Slack accepted the claimed message (with its ts; None for ephemerals).
        An incident's first post also becomes that incident's message (in `channel`, the id
        Slack posted to, when given), in the same transaction, so later updates and thread
        replies find it even after a crash."""
        now = self._clock.now()
        with self._db.transaction() as conn:
            result = conn.execute(
                update(_t)
                .where(_held(message))
                .values(state=OutboxState.SENT.value, slack_ts=ts, sent_at=now, claimed_until=None)
            )
            if result.rowcount != 1:
                return False
            if message.kind is OutboxKind.POST and message.incident_id is not None and ts:
                where = channel or message.channel
                incidents.set_message(conn, message.incident_id, where, ts, ts, now)
        return True

    def mark_retry(self, message: OutboxMessage, error: str, next_at: datetime) -> bool:
        """Give the claimed message back, to be tried again at `next_at` (Retry-After, backoff)."""
        return self._release(
            message,
            state=OutboxState.PENDING.value,
            next_attempt_at=next_at,
            last_error=error,
        )

    def mark_failed(self, message: OutboxMessage, error: str) -> bool:
        """Give up on the claimed message (Slack refused it for good: channel_not_found…)."""
        return self._release(message, state=OutboxState.FAILED.value, last_error=error)

    def _release(self, message: OutboxMessage, **values: object) -> bool:
        with self._db.transaction() as conn:
            result = conn.execute(
                update(_t).where(_held(message)).values(**values, claimed_until=None)
            )
        return result.rowcount == 1

    def prune(self, older_than: datetime) -> int:
        """Forget messages sent (or given up) before `older_than`; returns how many. What is
        pending or being sent is never touched, and the retention must outlast any chance of
        the same dedupe key being enqueued again (keys name an incident, a day, a week)."""
        done = ((_t.c.state == OutboxState.SENT.value) & (_t.c.sent_at < older_than)) | (
            (_t.c.state == OutboxState.FAILED.value) & (_t.c.created_at < older_than)
        )
        with self._db.transaction() as conn:
            return int(conn.execute(delete(_t).where(done)).rowcount or 0)

    def get(self, message_id: int) -> OutboxMessage | None:
        with self._db.transaction() as conn:
            row = conn.execute(select(_t).where(_t.c.id == message_id)).first()
        return None if row is None else _message(row)

    def find(self, dedupe_key: str) -> OutboxMessage | None:
        with self._db.transaction() as conn:
            row = conn.execute(select(_t).where(_t.c.dedupe_key == dedupe_key)).first()
        return None if row is None else _message(row)

    def pending_count(self, channel: str | None = None) -> int:
        """Messages not yet sent nor given up (pending or being sent)."""
        query = select(func.count()).where(
            _t.c.state.in_([OutboxState.PENDING.value, OutboxState.SENDING.value])
        )
        if channel is not None:
            query = query.where(_t.c.channel == channel)
        with self._db.transaction() as conn:
            return int(conn.execute(query).scalar_one())

    def failed(self, limit: int = 50) -> list[OutboxMessage]:
        """Messages given up on, newest first (for `doctor`)."""
        query = (
            select(_t)
            .where(_t.c.state == OutboxState.FAILED.value)
            .order_by(_t.c.id.desc())
            .limit(limit)
        )
        with self._db.transaction() as conn:
            return [_message(row) for row in conn.execute(query).all()]
