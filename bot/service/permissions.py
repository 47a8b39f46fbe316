"""Who may press which button: the config's `permissions` grants resolved against Slack (user
groups through usergroups.users.list, emails through users.info) and, for reruns in
`databricks` mode, against the job's ACL in Databricks. A refusal says why and who can.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Protocol

from bot.config.sections import Grant
from bot.models import JobAccess, JobsApiError
from bot.render.mrkdwn import escape, user_mention

log = logging.getLogger(__name__)

# Names a refusal spells out before it says "and N more": an ephemeral, not a roster.
MAX_NAMED = 8
# How long a refused click waits for the clicker's email for its audit entry (users.info can
# be throttled and retried for many seconds): past it the entry is written without one.
AUDIT_EMAIL_SECONDS = 1.0
# Lookups for audit entries still waiting on Slack at once; more are skipped, not queued, so
# a flood of damaged clicks while Slack is slow cannot pile up threads.
MAX_AUDIT_LOOKUPS = 4


class DirectoryPort(Protocol):
    """bot.slack.directory.SlackDirectory by shape."""

    def email_of(self, user_id: str) -> str | None: ...

    def group_members(self, group_id: str) -> frozenset[str]: ...


class AccessPort(Protocol):
    def job_access(self, workspace_id: str, job_id: str, email: str) -> JobAccess: ...


@dataclass(frozen=True)
class Person:
    """Who clicked: their Slack id and, when Slack tells us, their email (for the audit log
    and for the email and databricks rules)."""

    user_id: str
    email: str | None


@dataclass(frozen=True)
class Decision:
    allowed: bool
    # Why not, in safe mrkdwn, addressed to the person ("You are not …"); None when allowed.
    why: str | None = None
    # How the answer was reached, for the audit log: "everyone", "user", "group:S01", …
    via: str | None = None
    # The check itself failed at Databricks (not a "no"): the click failed, it was not refused.
    error: JobsApiError | None = None


class Gatekeeper:
    """Resolves grants for one person at a time; Slack lookups are cached by the directory."""

    def __init__(self, directory: DirectoryPort | None, access: AccessPort | None) -> None:
        self._directory = directory
        self._access = access

    def person(self, user_id: str) -> Person:
        email = self._directory.email_of(user_id) if self._directory is not None else None
        return Person(user_id, email)

    def email_for_audit(self, user_id: str) -> str | None:
        """The clicker's email for the audit entry of a refused click, or None: never raises,
        and waits at most AUDIT_EMAIL_SECONDS. A lookup still running then finishes on its
        own (daemon) thread and fills the directory's cache for the next click."""
        directory = self._directory
        if directory is None or not user_id:
            return None
        if not _audit_lookups.acquire(blocking=False):
            return None
        box: dict[str, str | None] = {}
        done = threading.Event()

        def look() -> None:
            try:
                box["email"] = directory.email_of(user_id)
            except Exception as e:  # noqa: BLE001 - an audit detail must not fail the click
                log.info("no email for the audit entry of %s: %s", user_id, e)
            finally:
                _audit_lookups.release()
                done.set()

        threading.Thread(target=look, name="audit-email", daemon=True).start()
        if not done.wait(AUDIT_EMAIL_SECONDS):
            log.info("no email for the audit entry of %s: Slack is slow", user_id)
            return None
        return box.get("email")

    def check(self, grant: Grant, who: Person, doing: str) -> Decision:
        """`everyone` or `config` mode; `doing` names the action ("rerun this job")."""
        if grant.mode == "everyone":
            return Decision(True, via="everyone")
        if grant.mode == "databricks":  # the config refuses it outside rerun; never by accident
            return Decision(False, f"You are not allowed to {doing}.", via="databricks-only")
        if who.user_id in grant.users:
            return Decision(True, via="user")
        members: dict[str, frozenset[str]] = {}
        for group in grant.user_groups:
            members[group] = self._members(group)
            if who.user_id in members[group]:
                return Decision(True, via=f"group:{group}")
        if who.email is not None and grant.allows(who.user_id, (), who.email):
            return Decision(True, via="email")
        return Decision(
            False,
            f"You are not allowed to {doing}: only {self._who_can(grant, members)} may.",
            via="config",
        )

    def check_rerun(self, grant: Grant, who: Person, workspace_id: str, job_id: str) -> Decision:
        if grant.mode != "databricks":
            return self.check(grant, who, "rerun this job")
        doing = "rerun this job"
        who_can = "people with CAN_MANAGE_RUN (or higher) on the job in Databricks"
        if who.email is None:
            return Decision(
                False,
                f"You are not allowed to {doing} from Slack: reruns are for {who_can}, and I "
                "cannot see an email on your Slack profile to find you in Databricks.",
                via="databricks:no-email",
            )
        if self._access is None:
            return Decision(
                False, "I cannot check your permission: no Jobs API is set up.", via="databricks"
            )
        try:
            found = self._access.job_access(workspace_id, job_id, who.email)
        except JobsApiError as e:
            return Decision(
                False,
                f"I could not check your permission on this job in Databricks, so nothing "
                f"was done: {escape(e)}",
                via="databricks:error",
                error=e,
            )
        if found.allowed:
            return Decision(True, via=f"databricks:{found.via}:{found.level}")
        if not found.user_found:
            return Decision(
                False,
                f"You are not allowed to {doing}: reruns are for {who_can}, and no Databricks "
                f"user in this workspace has your Slack email ({escape(who.email)}).",
                via="databricks:no-user",
            )
        level = f" (you have {escape(found.level)})" if found.level else ""
        return Decision(
            False,
            f"You are not allowed to {doing}: reruns are for {who_can}{level}.",
            via="databricks:too-low",
        )

    def _members(self, group: str) -> frozenset[str]:
        if self._directory is None:
            return frozenset()
        return self._directory.group_members(group)

    def _who_can(self, grant: Grant, members: dict[str, frozenset[str]]) -> str:
        parts: list[str] = []
        if grant.users:
            parts.append(_names([user_mention(u) for u in grant.users]))
        for group in grant.user_groups:
            people = sorted(members.get(group, frozenset()))
            # `<!subteam^ID>` shows as @handle; in an ephemeral it notifies nobody.
            named = f" ({_names([user_mention(u) for u in people])})" if people else ""
            parts.append(f"members of <!subteam^{escape(group)}>{named}")
        if grant.emails:
            parts.append("people with the emails " + _names([escape(e) for e in grant.emails]))
        return " or ".join(parts) if parts else "nobody (the config lists no one)"


_audit_lookups = threading.BoundedSemaphore(MAX_AUDIT_LOOKUPS)


def _names(items: list[str]) -> str:
    shown = items[:MAX_NAMED]
    more = len(items) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")
