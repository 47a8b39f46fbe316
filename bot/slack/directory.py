"""Who is who in Slack, for mentions and permission checks: an email to a Slack user
(`users.lookupByEmail`), a user to their email (`users.info`), a user group to its members
(`usergroups.users.list`). Answers are cached for a while: owners and on-call groups change
rarely, and every alert would otherwise cost a Web API call."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from slack_sdk import WebClient

from bot.slack import errors

log = logging.getLogger(__name__)
T = TypeVar("T")

CACHE_SECONDS = 600.0


class SlackDirectory:
    """Lookups through the bot's WebClient; unknown people are None, never an exception."""

    def __init__(
        self,
        client: WebClient,
        *,
        ttl_seconds: float = CACHE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._ttl = ttl_seconds
        self._now = monotonic
        self._cache: dict[tuple[str, str], tuple[float, object]] = {}
        self._lock = threading.Lock()

    def user_id_for_email(self, email: str) -> str | None:
        """The Slack user with this email, or None (not in this workspace, or not found)."""

        def look() -> str | None:
            try:
                found = errors.call(
                    "users.lookupByEmail", lambda: self._client.users_lookupByEmail(email=email)
                )
            except errors.SlackError as e:
                if e.code != "users_not_found":
                    log.warning("users.lookupByEmail failed: %s", e.code)
                return None
            user = found.get("user") or {}
            return str(user["id"]) if user.get("id") else None

        return self._cached(("email", email.lower()), look)

    def email_of(self, user_id: str) -> str | None:
        """The email on a Slack user's profile (needs the users:read.email scope)."""

        def look() -> str | None:
            try:
                found = errors.call("users.info", lambda: self._client.users_info(user=user_id))
            except errors.SlackError as e:
                log.warning("users.info failed for %s: %s", user_id, e.code)
                return None
            profile = (found.get("user") or {}).get("profile") or {}
            email = profile.get("email")
            return str(email) if email else None

        return self._cached(("user", user_id), look)

    def group_members(self, group_id: str) -> frozenset[str]:
        """The user ids in a Slack user group (an on-call rota, say); empty if unknown."""

        def look() -> frozenset[str]:
            try:
                found = errors.call(
                    "usergroups.users.list",
                    lambda: self._client.usergroups_users_list(usergroup=group_id),
                )
            except errors.SlackError as e:
                log.warning("usergroups.users.list failed for %s: %s", group_id, e.code)
                return frozenset()
            return frozenset(str(u) for u in found.get("users") or ())

        return self._cached(("group", group_id), look)

    def _cached(self, key: tuple[str, str], look: Callable[[], T]) -> T:
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and self._now() - hit[0] < self._ttl:
                return hit[1]  # type: ignore[return-value]
        value = look()
        with self._lock:
            self._cache[key] = (self._now(), value)
        return value
