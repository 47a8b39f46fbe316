"""Posting through a response_url so the answer arrives: retried on 429 and 5xx, logged if not.

Bolt's `respond()` posts once with slack_sdk's WebhookClient, which does not raise on an HTTP
error: a 429 or a 503 from Slack used to drop the answer without a trace. Here a rate limit
waits for its `Retry-After` (capped) and a server error or a broken connection backs off and
tries again, within a total bound; anything else (an invalid message, a used-up or expired URL)
cannot get better by trying again and is logged with what could not be delivered.

A response_url takes at most 5 posts in 30 minutes. Slack does not count a rate-limited or
failed post as one of them, so retries only spend uses on posts that went through.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.error import URLError

from slack_bolt import Respond

log = logging.getLogger(__name__)

ATTEMPTS = 5
# Within this long an answer is still worth posting; beyond it the person has moved on.
GIVE_UP_AFTER = 60.0
BACKOFF = 0.5  # first wait after a 5xx; doubles each time
MAX_WAIT = 20.0  # a Retry-After longer than this is cut, within GIVE_UP_AFTER


def deliver(
    respond: Respond,
    *,
    sleep: Callable[[float], None] = time.sleep,
    **message: Any,
) -> bool:
    """Post `message` through `respond`, retrying what can succeed later; True if delivered."""
    started = time.monotonic()
    what = _summary(message)
    for attempt in range(1, ATTEMPTS + 1):
        try:
            response = respond(**message)
            status, body = response.status_code, str(response.body)
            retry_after = _retry_after(response.headers)
        except (URLError, ConnectionError, TimeoutError, OSError) as error:
            status, body, retry_after = 0, type(error).__name__, None
        if 200 <= status < 300:
            if attempt > 1:
                log.info("answer delivered on attempt %d (%s)", attempt, what)
            return True
        if status != 429 and status < 500 and status != 0:
            log.error("could not deliver an answer (HTTP %s %r): %s", status, body[:100], what)
            return False
        wait = retry_after if retry_after is not None else BACKOFF * 2 ** (attempt - 1)
        # Jitter: many answers limited at once should not all come back in the same instant.
        wait = min(wait, MAX_WAIT) + random.uniform(0, 0.25)
        if attempt == ATTEMPTS or time.monotonic() - started + wait > GIVE_UP_AFTER:
            break
        log.warning(
            "response_url answered HTTP %s %r; trying again in %.1f s", status, body[:100], wait
        )
        sleep(wait)
    log.error("could not deliver an answer after %d attempt(s): %s", attempt, what)
    return False


class WorkingNotice:
    """Posts "working on it" if the answer is slow, then puts the answer in its place.
    Counting starts at `start()` (the ack), so a question waiting in the queue shows it too."""

    def __init__(self, respond: Respond, text: str, after: float) -> None:
        self._respond = respond
        self._text = text
        self._lock = threading.Lock()
        self._posted = False
        self._done = False
        self._timer = threading.Timer(after, self._post)
        self._timer.daemon = True

    def start(self) -> None:
        self._timer.start()

    def _post(self) -> None:
        # Under the lock, retries included: the answer must not overtake the notice, or the
        # notice would land last and the hourglass would stay.
        with self._lock:
            if self._done:
                return
            self._posted = deliver(self._respond, text=self._text, response_type="ephemeral")

    def finish(self, message: dict[str, Any]) -> None:
        # A timer cancelled before it starts never runs, so finishing first is safe.
        self._timer.cancel()
        with self._lock:
            self._done = True
            deliver(
                self._respond,
                text=message["text"],
                blocks=message.get("blocks"),
                response_type="ephemeral",
                # Only a notice that arrived can be replaced; otherwise this is a new message.
                replace_original=self._posted,
            )


def _retry_after(headers: Any) -> float | None:
    if not headers:
        return None
    for key, value in dict(headers).items():
        if str(key).lower() == "retry-after":
            raw = value[0] if isinstance(value, list) and value else value
            try:
                return max(0.0, float(raw))
            except (TypeError, ValueError):
                return None
    return None


def _summary(message: dict[str, Any]) -> str:
    # The operator sees which answer was lost, escaped (it may quote what a user typed) and
    # short; the full blocks would flood the log.
    text = str(message.get("text") or ("(delete)" if message.get("delete_original") else ""))
    return repr(text[:120])
