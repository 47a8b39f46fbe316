"""Per-channel pacing for outbound Slack messages: when each channel may take its next one.

Slack allows about one chat.postMessage per second per channel (short bursts tolerated, plus
a workspace-wide limit); past that it answers 429 with a Retry-After. Each channel keeps its
own slot, so a busy or rate-limited channel never holds up the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable


class ChannelPace:
    """Slots per channel on an injected monotonic clock (seconds), so tests can drive time."""

    def __init__(self, interval: float, monotonic: Callable[[], float]) -> None:
        self.interval = interval
        self._monotonic = monotonic
        self._ready_at: dict[str, float] = {}

    def wait(self, channel: str) -> float:
        """Seconds until `channel` may take its next message (0 when it may now)."""
        return max(0.0, self._ready_at.get(channel, 0.0) - self._monotonic())

    def sent(self, channel: str) -> None:
        """A message just went to `channel`: the next one waits a full interval. Counted from
        when Slack answered, not from when we asked, so consecutive messages are at least
        `interval` apart at Slack's end too, whatever the network latency."""
        self._ready_at[channel] = max(
            self._ready_at.get(channel, 0.0), self._monotonic() + self.interval
        )

    def hold(self, channel: str, seconds: float) -> None:
        """Slack said "retry after `seconds`" (429): nothing goes to `channel` before then."""
        self._ready_at[channel] = max(
            self._ready_at.get(channel, 0.0), self._monotonic() + max(seconds, self.interval)
        )

    def soonest(self, channels: Iterable[str]) -> float | None:
        """Seconds until the first of `channels` is ready; None when there are none."""
        waits = [self.wait(channel) for channel in channels]
        return min(waits) if waits else None
