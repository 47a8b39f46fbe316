"""The notifier: sends what the outbox holds, paced per channel, exactly once across crashes.

Each row is claimed (the outbox's atomic claim, with a lease) before it is sent and marked
after. Posts and thread replies carry metadata naming their row; a row claimed again after a
claim that may have reached Slack (a crash, a dropped connection, a 5xx) is first looked for
in the channel and, when found, recorded instead of posted. The payload shape per kind is in
bot/slack/payloads.py.

Claimed rows wait in per-channel queues and each channel sends at most one message per
`per_channel_interval`: Slack allows about one chat.postMessage per second per channel
(short bursts tolerated, plus a workspace-wide limit). reference/slack.md gives no separate
figure for chat.update, so edits and ephemerals share their channel's budget — an edit storm
on one alert then cannot crowd out the channel's new alerts. A channel waiting out its
interval or a Retry-After never delays another. Of several replicas only the one holding the
leader lease sends (`sends_now`), so the channel pace is kept across processes too; the others'
messages wait in the shared outbox for it (a new leader takes over within the lease's ttl).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import timedelta
from typing import Any

from slack_sdk import WebClient

from bot.clock import Clock
from bot.slack.errors import ChannelNotFound, InvalidBlocks, IsArchived, MessageTooLong, SlackError
from bot.slack.pacing import ChannelPace
from bot.slack.payloads import plain_fallback, rerouted
from bot.slack.queues import ChannelQueues, Held, IncidentsPort, OutboxPort
from bot.slack.sender import Retryable, Sender, SlowDown, Target
from bot.store.outbox import CLAIM_LEASE
from bot.store.records import OutboxKind, OutboxMessage

log = logging.getLogger(__name__)

# Slack refuses these for this message for good; trying again cannot help.
PERMANENT = frozenset(
    {
        "message_not_found",
        "cant_update_message",
        "edit_window_closed",
        "thread_not_found",
        "user_not_found",
        "user_not_in_channel",
        "no_text",
        "invalid_metadata_format",
        "invalid_metadata_schema",
    }
)


@dataclass
class DrainStats:
    sent: int = 0  # delivered now
    recovered: int = 0  # found in Slack already (an earlier claim posted it) and recorded
    superseded: int = 0  # an update older than one already sent: recorded, not sent
    retried: int = 0  # given back to the outbox with a retry time
    failed: int = 0  # given up on, with a log line saying why
    rerouted: int = 0  # a POST passed on to the default channel
    fallbacks: int = 0  # plain-text stand-ins queued for messages Slack refused
    joined: int = 0  # times the bot joined a public channel to post there
    deferred: int = 0  # given back unsent, to keep within the claim lease
    rate_limited: int = 0  # 429 answers

    @property
    def handled(self) -> int:
        """Rows dealt with for now: sent, recorded, to be retried, failed or re-routed."""
        done = self.sent + self.recovered + self.superseded
        return done + self.retried + self.failed + self.rerouted

    def add(self, other: DrainStats) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


class Notifier:
    def __init__(
        self,
        store_outbox: OutboxPort,
        incidents: IncidentsPort,
        client: WebClient,
        clock: Clock,
        *,
        default_channel: str,
        per_channel_interval: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] | None = None,
        lease: timedelta = CLAIM_LEASE,
        backoff_base: float = 2.0,
        backoff_cap: float = 300.0,
        max_attempts: int = 8,
        max_rate_limited: int = 3,
        idle_wake: float = 0.5,
    ) -> None:
        self._outbox = store_outbox
        self._sender = Sender(client, log)
        self._clock = clock
        self.default_channel = default_channel
        self._pace = ChannelPace(per_channel_interval, monotonic)
        self._monotonic = monotonic
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._sleep = sleep or self._stopping.wait  # stop() cuts a pacing wait short
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._max_attempts = max_attempts
        self._max_rate_limited = max_rate_limited
        self._idle_wake = idle_wake
        # A held row is sent only with this much of its lease left (a send with a join and a
        # history search takes seconds); otherwise it goes back rather than risk another
        # notifier taking it over mid-send.
        self._lease_margin = lease / 4
        self._queues = ChannelQueues(
            store_outbox, incidents, self._pace, clock, lease, resolve=self._sender.channel_id
        )
        # The newest UPDATE sent per incident: an older one retried later must not undo it.
        self._last_update: dict[int, int] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.totals = DrainStats()
        # Told whether each send reached Slack (True) or Slack failed (False, the reason):
        # the bot's watch on itself ("monitoring degraded: Slack") and its metrics. A 429 or
        # a refusal is Slack answering, not failing, and is not reported as a failure.
        self.on_result: Callable[[bool, str | None], None] | None = None
        # Told of every message newly posted (not one found already in Slack): /metrics
        # counts the alerts by kind from it.
        self.on_posted: Callable[[OutboxMessage], None] | None = None
        # Whether this process sends now (the wiring makes it "holds the leader lease"): the
        # background loop drains only then. drain() called directly always sends.
        self.sends_now: Callable[[], bool] = lambda: True

    # -- running -------------------------------------------------------------------------
    def drain(self, max_messages: int | None = None, deadline: float | None = None) -> DrainStats:
        """Send everything due now, each channel at its pace. Returns when nothing is due
        and nothing waits for its channel, after `max_messages` rows, or at `deadline` (a
        reading of the notifier's monotonic clock). Never raises."""
        stats = DrainStats()
        with self._lock:
            try:
                self._run(stats, max_messages, deadline)
            except Exception:
                # A notifier that raises stops alerting; log, and the next drain goes on.
                log.exception("notifier: unexpected error while draining")
            finally:
                self._queues.release_all()
            self.totals.add(stats)
        return stats

    def poke(self) -> None:
        """Something was enqueued: the background thread drains now, not at its next tick."""
        self._wake.set()

    def start(self) -> None:
        """Drain continuously on a background thread (woken by poke(), else every ~0.5 s)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, name="jobs-bot-notifier", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the background thread; rows it held unsent go back to the outbox."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._stopping.clear()  # drain() may still be called directly

    def _loop(self) -> None:
        while not self._stopping.is_set():
            if self.sends_now():
                self.drain()
            self._wake.wait(self._idle_wake)
            self._wake.clear()

    def _run(self, stats: DrainStats, max_messages: int | None, deadline: float | None) -> None:
        while not self._stopping.is_set():
            if max_messages is not None and stats.handled >= max_messages:
                return
            if deadline is not None and self._monotonic() >= deadline:
                return
            room = (
                None if max_messages is None else max_messages - stats.handled - len(self._queues)
            )
            if room is None or room > 0:
                stats.deferred += self._queues.fill(room)
            held = self._queues.next_ready()
            if held is not None:
                self._deliver(held, stats)
                continue
            wait = self._pace.soonest(self._queues.waiting_channels())
            if wait is None:
                return  # nothing held, nothing due
            if deadline is not None:
                wait = min(wait, deadline - self._monotonic())
            if wait > 0:
                self._sleep(wait)

    # -- delivering -----------------------------------------------------------------------
    def _deliver(self, held: Held, stats: DrainStats) -> None:
        message, target = held.message, held.target
        left = None if message.claimed_until is None else message.claimed_until - self._clock.now()
        if left is not None and left < self._lease_margin:
            self._queues.give_back(message, held.fresh, "claim nearly expired", 0.0)
            stats.deferred += 1
            return
        # An update's place in line is its row id (a plain stand-in keeps the original's).
        order = int(message.payload.get("replaces") or message.id)
        if message.kind is OutboxKind.UPDATE and message.incident_id is not None:
            newest = self._last_update.get(message.incident_id, 0)
            if newest > order:
                log.info("outbox %s: newer update %s already sent; skipped", message.id, newest)
                if self._record(message, target.ts):
                    stats.superseded += 1
                return
        try:
            sent = self._sender.send(message, target, fresh=held.fresh)
        except SlowDown as e:
            self._slow_down(held, e, stats)
            return
        except Retryable as e:
            self._pace.sent(target.channel)
            self._retry(message, str(e), stats, clean=held.fresh and not e.ambiguous)
            self._tell(False, str(e))
            return
        except (ChannelNotFound, IsArchived) as e:
            self._channel_gone(message, target, e, stats)
            return
        except (MessageTooLong, InvalidBlocks) as e:
            self._pace.sent(target.channel)
            self._refused(message, target, e, stats)
            return
        except SlackError as e:
            # Slack answered ok:false, so nothing was posted by this call.
            self._pace.sent(target.channel)
            self._other_error(message, target, e, stats, clean=held.fresh)
            return
        except Exception as e:
            # Unknown: it may have reached Slack, so the next claim searches first.
            log.exception("outbox %s: unexpected error sending to %s", message.id, target.channel)
            self._other_error(message, target, e, stats, clean=False)
            return
        self._pace.sent(target.channel)
        self._tell(True, None)
        if sent.joined:
            stats.joined += 1
        if message.kind is OutboxKind.UPDATE and message.incident_id is not None:
            newest = self._last_update.get(message.incident_id, 0)
            self._last_update[message.incident_id] = max(order, newest)
        if not self._record(message, sent.ts, target.channel):
            return
        if sent.recovered:
            log.info(
                "outbox %s: already in Slack (ts %s); recorded, not posted", message.id, sent.ts
            )
            stats.recovered += 1
        else:
            stats.sent += 1
            if self.on_posted is not None and message.kind is OutboxKind.POST:
                try:
                    self.on_posted(message)
                except Exception:  # counting must never stop the sending
                    log.exception("on_posted hook failed")

    def _tell(self, ok: bool, error: str | None) -> None:
        if self.on_result is None:
            return
        try:
            self.on_result(ok, error)
        except Exception:  # the watch on Slack must never stop the sending itself
            log.exception("on_result hook failed")

    def _record(self, message: OutboxMessage, ts: str | None, channel: str | None = None) -> bool:
        """mark_sent; False when the store failed. The row then stays claimed until its
        lease expires, and the next claim finds the message by its metadata."""
        try:
            marked = self._outbox.mark_sent(message, ts, channel)
        except Exception:
            log.exception(
                "outbox %s: Slack has it (ts %s) but the store did not record it; the next "
                "claim will find it in the channel rather than post it again",
                message.id,
                ts,
            )
            return False
        if not marked:
            log.warning("outbox %s: claim taken over before it was marked (ts %s)", message.id, ts)
        return True

    def _slow_down(self, held: Held, e: SlowDown, stats: DrainStats) -> None:
        """429: Slack refused the call, so nothing was posted. The channel waits out
        Retry-After with the row at the head of its queue, unless it keeps being refused."""
        stats.rate_limited += 1
        channel = held.target.channel
        self._pace.hold(channel, e.retry_after)
        held.limited += 1
        if held.limited < self._max_rate_limited:
            self._queues.put_back(held)
            return
        log.warning(
            "outbox %s: rate limited %d times in %s", held.message.id, held.limited, channel
        )
        self._queues.give_back(held.message, held.fresh, str(e), e.retry_after)
        stats.retried += 1

    def _retry(self, message: OutboxMessage, error: str, stats: DrainStats, *, clean: bool) -> None:
        """5xx, a dropped connection, a timeout: never lost, tried again after a capped
        exponential backoff. `clean` when this claim surely posted nothing."""
        delay = min(self._backoff_cap, self._backoff_base * 2 ** max(0, message.attempts - 1))
        log.warning("outbox %s: %s; retrying in %gs", message.id, error, delay)
        self._queues.give_back(message, clean, error, delay)
        stats.retried += 1

    def _other_error(
        self,
        message: OutboxMessage,
        target: Target,
        error: Exception,
        stats: DrainStats,
        *,
        clean: bool,
    ) -> None:
        code = getattr(error, "code", type(error).__name__)
        if code in PERMANENT or message.attempts >= self._max_attempts:
            log.error(
                "outbox %s (%s to %s): giving up after %d attempt(s): %s",
                message.id,
                message.kind.value,
                target.channel,
                message.attempts,
                error,
            )
            self._fail(message, str(error), stats)
            return
        self._retry(message, str(error), stats, clean=clean)

    def _fail(self, message: OutboxMessage, error: str, stats: DrainStats) -> None:
        try:
            self._outbox.mark_failed(message, error)
        except Exception:
            # The claim's lease expires and the row is tried again.
            log.exception("outbox %s: could not mark it failed", message.id)
        stats.failed += 1

    def _channel_gone(
        self, message: OutboxMessage, target: Target, error: SlackError, stats: DrainStats
    ) -> None:
        """channel_not_found (a private channel the bot was not invited to, or no channel
        at all) or is_archived. A POST goes to the default channel, saying why, as a new row:
        that row's post becomes the incident's message (marked in one transaction), so the
        incident's updates and replies follow it there."""
        channel = target.channel
        why = "archived" if isinstance(error, IsArchived) else "not invited, or no such channel"
        if message.kind is not OutboxKind.POST or channel == self.default_channel:
            log.error(
                "outbox %s: cannot send a %s in channel %s (%s: %s); giving up",
                message.id,
                message.kind.value,
                channel,
                error.code,
                why,
            )
            self._fail(message, f"{error.code} in {channel}", stats)
            return
        log.error(
            "outbox %s: cannot post in channel %s (%s: %s); posting it in %s instead",
            message.id,
            channel,
            error.code,
            why,
            self.default_channel,
        )
        if not self._enqueue_instead(
            message,
            "rerouted",
            self.default_channel,
            OutboxKind.POST,
            rerouted(message.payload, channel, why),
            stats,
        ):
            return
        try:
            self._outbox.mark_failed(message, f"{error.code} in {channel}: re-routed")
        except Exception:
            log.exception("outbox %s: could not mark it re-routed", message.id)
        stats.rerouted += 1

    def _refused(
        self, message: OutboxMessage, target: Target, error: SlackError, stats: DrainStats
    ) -> None:
        """msg_too_long / invalid_blocks: the row fails and a plain-text stand-in takes its
        place, so the alert is not lost (it becomes the incident's message when this was the
        post). A stand-in refused in turn is only logged."""
        plain = bool(message.payload.get("plain"))
        log.error(
            "outbox %s: Slack refused the %s for %s (%s); %s",
            message.id,
            message.kind.value,
            target.channel,
            error.code,
            "giving up" if plain else "sending it as plain text",
        )
        if not plain:
            fallback = plain_fallback(message.payload, error.code)
            fallback.setdefault("replaces", message.id)
            if not self._enqueue_instead(
                message, "plain", message.channel, message.kind, fallback, stats
            ):
                return
            stats.fallbacks += 1
        self._fail(message, error.code, stats)

    def _enqueue_instead(
        self,
        message: OutboxMessage,
        suffix: str,
        channel: str,
        kind: OutboxKind,
        payload: dict[str, Any],
        stats: DrainStats,
    ) -> bool:
        """Queue the row that replaces `message` (idempotent: its dedupe key derives from
        the original's, so a retry after a crash adds nothing). False if the store failed;
        the original is then retried."""
        try:
            self._outbox.enqueue(
                dedupe_key=f"{message.dedupe_key}/{suffix}",
                channel=channel,
                kind=kind,
                payload=payload,
                incident_id=message.incident_id,
            )
        except Exception:
            log.exception("outbox %s: could not queue its %s replacement", message.id, suffix)
            self._retry(message, f"{suffix} replacement not queued", stats, clean=True)
            return False
        return True
