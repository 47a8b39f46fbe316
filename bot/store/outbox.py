"""The outbox: every Slack message is written here before it is sent and marked after, so a
crash at any point neither loses it nor (short of a crash mid-send) repeats it.

A row goes pending → sending (claimed by one notifier) → sent, or back to pending with a
retry time, or failed. Claims are conditional UPDATEs; a claim expires after its lease, so a
notifier that died mid-send does not strand the row — that is the one case that may send
twice (Slack gave us no ts to record), which beats losing an alert.

An update or thread reply of an incident waits for the incident's own message. When that
message will never come — its post failed for good, or there never was one (a muted job) —
the row is given up (failed, "given up: …", logged) instead of waiting forever: the claim
does it at most once a SWEEP_EVERY for rows older than ORPHAN_GRACE, and the alert use case
does it for one incident before it posts that incident's message anew.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, String, cast, delete, exists, func, literal, select, update
from sqlalchemy.sql.elements import ColumnElement

from bot.clock import Clock
from bot.store import incidents, schema
from bot.store.database import Database
from bot.store.records import OutboxKind, OutboxMessage, OutboxState

log = logging.getLogger(__name__)

_t = schema.outbox
_inc = schema.incidents
_other = schema.outbox.alias("parent")

# A claim lasts this long unless the notifier marks the row first: far longer than one Slack
# call with its retries, so only a dead notifier's rows are taken over.
CLAIM_LEASE = timedelta(minutes=2)

# How many due rows one claim looks at; each is tried with its own conditional UPDATE, so a
# row another notifier takes meanwhile is just skipped.
_CANDIDATES = 8

# An update or thread reply whose incident has no message and no post on its way is given up
# once it is this old (the grace covers a post enqueued a moment after, by another replica)…
ORPHAN_GRACE = timedelta(minutes=5)
# … by the claim, at most this often.
SWEEP_EVERY = timedelta(minutes=1)
# A roll-up thread entry that was sent becomes its incident's message at the roll-up's next
# sync (seconds later); one sent longer ago than this and still not linked never will be.
_LINK_WINDOW = timedelta(hours=1)
_WAITING = (OutboxState.PENDING.value, OutboxState.SENDING.value)
_CHILD_KINDS = (OutboxKind.UPDATE.value, OutboxKind.THREAD_REPLY.value)
GIVEN_UP = "given up: its incident's message was never posted"


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


def _post_coming(incident_id: ColumnElement[Any], now: datetime) -> ColumnElement[bool]:
    """Whether a message that will become the incident's own is still on its way: a POST of
    the incident not yet sent (a re-routed or plain stand-in counts: they are POSTs of it
    too), or its entry in a roll-up's thread, which the roll-up links once it is sent."""
    post = exists().where(
        (_other.c.incident_id == incident_id)
        & (_other.c.kind == OutboxKind.POST.value)
        & _other.c.state.in_(_WAITING)
    )
    pattern = literal("rollup:%:member:", String()) + cast(incident_id, String())
    entry = exists().where(
        _other.c.dedupe_key.like(pattern)
        & (
            _other.c.state.in_(_WAITING)
            | (
                (_other.c.state == OutboxState.SENT.value)
                & _other.c.slack_ts.is_not(None)
                & (_other.c.sent_at >= now - _LINK_WINDOW)
            )
        )
    )
    return post | entry


def _orphaned(now: datetime) -> ColumnElement[bool]:
    """An update or thread reply still waiting whose parent message will never come."""
    has_message = exists().where((_inc.c.id == _t.c.incident_id) & _inc.c.message_ts.is_not(None))
    waiting = (_t.c.state == OutboxState.PENDING.value) | (
        (_t.c.state == OutboxState.SENDING.value) & (_t.c.claimed_until <= now)
    )
    return (
        waiting
        & _t.c.kind.in_(_CHILD_KINDS)
        & _t.c.incident_id.is_not(None)
        & ~has_message
        & ~_post_coming(_t.c.incident_id, now)
    )


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
        self._swept_at: datetime | None = None

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
        if self._swept_at is None or now - self._swept_at >= SWEEP_EVERY:
            self._swept_at = now
            self.give_up_orphans(older_than=now - ORPHAN_GRACE)
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

    def post_coming(self, incident_id: int) -> bool:
        """Whether the incident's own message is on its way (see `_post_coming`); False once
        it has been sent, and False when it never will be."""
        now = self._clock.now()
        query = select(_post_coming(literal(incident_id), now))
        with self._db.transaction() as conn:
            return bool(conn.execute(query).scalar())

    def give_up_orphans(
        self, *, incident_id: int | None = None, older_than: datetime | None = None
    ) -> int:
        """Fail the updates and thread replies waiting for an incident message that will
        never come (its post failed for good, or it was never posted: a muted job), of one
        incident or all, created before `older_than`. Returns how many; each is logged."""
        now = self._clock.now()
        where = _orphaned(now)
        if incident_id is not None:
            where = where & (_t.c.incident_id == incident_id)
        if older_than is not None:
            where = where & (_t.c.created_at < older_than)
        with self._db.transaction() as conn:
            rows = conn.execute(
                update(_t)
                .where(where)
                .values(state=OutboxState.FAILED.value, last_error=GIVEN_UP, claimed_until=None)
                .returning(_t.c.id, _t.c.kind, _t.c.incident_id, _t.c.dedupe_key)
            ).all()
        for row in rows:
            log.warning(
                "outbox %s (%s of incident %s, %s): %s",
                row.id,
                row.kind,
                row.incident_id,
                row.dedupe_key,
                GIVEN_UP,
            )
        return len(rows)

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
