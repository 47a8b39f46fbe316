"""The notifier's per-channel queues: outbox rows it has claimed, waiting for their channel's
next slot, and the memory of which of them are "fresh" (surely never posted before).

Rows are claimed oldest first across all channels (the outbox has no per-channel listing),
so a channel with a backlog would otherwise crowd the claims: a channel holds at most what
it can send in a quarter of the claim lease, and rows past that go straight back to the
outbox, due about when the channel can take them.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.clock import Clock
from bot.slack.pacing import ChannelPace
from bot.slack.sender import Target
from bot.store.outbox import CLAIM_LEASE
from bot.store.records import Incident, OutboxKind, OutboxMessage

log = logging.getLogger(__name__)


class OutboxPort(Protocol):
    def enqueue(
        self,
        *,
        dedupe_key: str,
        channel: str,
        kind: OutboxKind,
        payload: dict[str, Any],
        incident_id: int | None = None,
    ) -> bool: ...
    def claim_next(
        self, channel: str | None = None, lease: timedelta = CLAIM_LEASE
    ) -> OutboxMessage | None: ...
    def mark_sent(
        self, message: OutboxMessage, ts: str | None, channel: str | None = None
    ) -> bool: ...
    def mark_retry(self, message: OutboxMessage, error: str, next_at: datetime) -> bool: ...
    def mark_failed(self, message: OutboxMessage, error: str) -> bool: ...


class IncidentsPort(Protocol):
    def get(self, incident_id: int) -> Incident | None: ...


@dataclass
class Held:
    """A claimed row waiting for its channel's slot."""

    message: OutboxMessage
    target: Target
    fresh: bool  # no earlier claim can have posted it, so no search first
    limited: int = 0  # 429s met during this claim


class ChannelQueues:
    def __init__(
        self,
        outbox: OutboxPort,
        incidents: IncidentsPort,
        pace: ChannelPace,
        clock: Clock,
        lease: timedelta,
        resolve: Callable[[str], str] = str,
    ) -> None:
        self._resolve = resolve
        self._outbox = outbox
        self._incidents = incidents
        self._pace = pace
        self._clock = clock
        self._lease = lease
        per_lease = lease.total_seconds() / 4 / max(pace.interval, 0.001)
        self._hold_per_channel = max(1, min(50, int(per_lease)))
        self._queues: dict[str, deque[Held]] = {}
        # Rows given back without calling Slack: outbox id → attempts of that claim. One we
        # reclaim at the very next attempt (nobody claimed it in between) is still fresh.
        self._released_unsent: dict[int, int] = {}

    def __len__(self) -> int:
        return sum(len(q) for q in self._queues.values())

    def waiting_channels(self) -> Iterator[str]:
        return (c for c, q in self._queues.items() if q)

    def fill(self, limit: int | None = None) -> int:
        """Claim due rows into their channels' queues (at most `limit`); returns how many
        were handed straight back because their channel was full."""
        deferred: dict[str, int] = {}
        claimed = 0
        start = self._clock.now()  # one base for the whole fill, so the spacing holds
        while limit is None or claimed < limit:
            message = self._outbox.claim_next(lease=self._lease)
            if message is None:
                break
            claimed += 1
            fresh = self._is_fresh(message)
            target = self._target(message)
            queue = self._queues.setdefault(target.channel, deque())
            if len(queue) < self._hold_per_channel:
                queue.append(Held(message, target, fresh))
                continue
            # Full: due again about when the channel can take it (rows handed back are spread
            # an interval apart), and claiming moves on to the other channels' rows.
            n = deferred[target.channel] = deferred.get(target.channel, 0) + 1
            later = self._pace.interval * (len(queue) + n) + self._pace.wait(target.channel)
            self.give_back(message, fresh, "waiting for the channel's pace", later, since=start)
        return sum(deferred.values())

    def next_ready(self) -> Held | None:
        """The head of a channel free to send now: of those, the one due longest."""
        ready = [c for c in self.waiting_channels() if self._pace.wait(c) == 0]
        if not ready:
            return None
        channel = min(ready, key=lambda c: (self._queues[c][0].message.next_attempt_at, c))
        return self._queues[channel].popleft()

    def put_back(self, held: Held) -> None:
        """At the head of its queue again (its channel was told to wait)."""
        self._queues.setdefault(held.target.channel, deque()).appendleft(held)

    def release_all(self) -> None:
        """Give every held row back to the outbox, due now (drain is ending)."""
        for queue in self._queues.values():
            while queue:
                held = queue.popleft()
                self.give_back(held.message, held.fresh, "released unsent", 0.0)
        self._queues.clear()

    def give_back(
        self,
        message: OutboxMessage,
        fresh: bool,
        why: str,
        after: float,
        since: datetime | None = None,
    ) -> None:
        """Return a claimed row, due again `after` seconds from `since` (default now).
        `fresh` says no claim of it so far can have posted it."""
        try:
            next_at = (since or self._clock.now()) + timedelta(seconds=after)
            released = self._outbox.mark_retry(message, why, next_at)
        except Exception:
            # The lease expires and the next claim takes the row over (searching first).
            log.exception("outbox %s: could not give the row back", message.id)
            return
        if released and fresh:
            if len(self._released_unsent) > 10_000:
                self._released_unsent.clear()  # rows that other notifiers took over
            self._released_unsent[message.id] = message.attempts

    def _is_fresh(self, message: OutboxMessage) -> bool:
        released_at = self._released_unsent.pop(message.id, None)
        return message.attempts == 1 or released_at == message.attempts - 1

    def _target(self, message: OutboxMessage) -> Target:
        """Where the row goes. Updates and thread replies follow their incident's message
        wherever it went (the default channel, if its post was re-routed)."""
        if message.kind not in (OutboxKind.UPDATE, OutboxKind.THREAD_REPLY):
            return Target(self._resolve(message.channel))
        incident = None
        if message.incident_id is not None:
            incident = self._incidents.get(message.incident_id)
        if incident is not None and incident.channel and incident.message_ts:
            if message.kind is OutboxKind.UPDATE:
                return Target(incident.channel, incident.message_ts)
            return Target(incident.channel, incident.thread_ts or incident.message_ts)
        key = "ts" if message.kind is OutboxKind.UPDATE else "thread_ts"
        return Target(self._resolve(message.channel), message.payload.get(key))
