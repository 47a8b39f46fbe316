"""Who may act on a job: the job's access control list and the SCIM lookups that resolve a
Slack user's email to a Databricks user and their (nested) groups."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from databricks.sdk.core import ApiClient

from bot.jobs_api.wire import get
from bot.models import JobAccess

_PERMISSIONS = "/api/2.0/permissions/jobs/{job_id}"
_SCIM_USERS = "/api/2.0/preview/scim/v2/Users"
_SCIM_GROUPS = "/api/2.0/preview/scim/v2/Groups"
RANK = {"CAN_VIEW": 1, "CAN_MANAGE_RUN": 2, "CAN_MANAGE": 3, "IS_OWNER": 3}
# Every workspace user is implicitly in the built-in `users` group, which SCIM need not list.
_ALL_USERS_GROUP = "users"
_MAX_GROUP_LOOKUPS = 50


def check(api: ApiClient, workspace_id: str, job_id: str, email: str) -> JobAccess:
    """CAN_MANAGE_RUN or higher on the job for the Databricks user with this email, directly
    or through a group (nested groups included). Usually two requests: the SCIM user (with its
    groups) and the job's ACL; groups in the ACL that the user's `groups` do not list are then
    walked downwards through their members (one SCIM Groups request per group walked)."""
    acl = get(api, _PERMISSIONS.format(job_id=int(job_id)), {})
    user = _find_user(api, email)
    if user is None:
        return JobAccess(workspace_id, job_id, email, False, None, None, False)
    best: tuple[int, str | None, str | None] = (0, None, None)
    group_levels: dict[str, str] = {}
    for entry in acl.get("access_control_list") or ():
        level = _best_level(entry.get("all_permissions") or ())
        if level is None:
            continue
        if str(entry.get("user_name", "")).lower() == email.lower():
            best = max(best, (RANK[level], level, "user"), key=lambda b: b[0])
        elif entry.get("group_name"):
            group_levels[str(entry["group_name"])] = level
    # The user's `groups`: its direct groups, and maybe (RFC 7643 allows it) the groups it is in
    # through nested groups, typed "indirect". Either kind is a membership; what is not listed
    # is found by the walk below, so both shapes give the same answer.
    known = {str(g.get("display")) for g in user.get("groups") or ()} | {_ALL_USERS_GROUP}
    for name, level in group_levels.items():
        if RANK[level] > best[0] and name in known:
            best = (RANK[level], level, f"group:{name}")
    if best[0] < RANK["CAN_MANAGE_RUN"]:
        wanted = {n: lv for n, lv in group_levels.items() if RANK[lv] >= RANK["CAN_MANAGE_RUN"]}
        for name in sorted(wanted, key=lambda n: -RANK[wanted[n]]):
            if _nested_member(api, name, str(user["id"]), known):
                best = (RANK[wanted[name]], wanted[name], f"group:{name}")
                break
    allowed = best[0] >= RANK["CAN_MANAGE_RUN"]
    return JobAccess(workspace_id, job_id, email, allowed, best[1], best[2], True)


def _best_level(perms: Iterable[Mapping[str, Any]]) -> str | None:
    # Unknown levels rank 0: a new level never grants a rerun by accident.
    levels = [str(p.get("permission_level")) for p in perms if p.get("permission_level") in RANK]
    return max(levels, key=lambda lv: RANK[lv]) if levels else None


def _scim_quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _find_user(api: ApiClient, email: str) -> dict[str, Any] | None:
    # userName is the email in Databricks; one page with the filter (the SDK's users.list
    # would ask for a second, empty page to see the end).
    query = {
        "filter": f"userName eq {_scim_quote(email)}",
        "attributes": "id,userName,groups,active",
        "count": 2,
    }
    found = get(api, _SCIM_USERS, query=query).get("Resources") or []
    for user in found:
        if str(user.get("userName", "")).lower() == email.lower() and user.get("active", True):
            return dict(user)
    return None


def _nested_member(api: ApiClient, group: str, user_id: str, user_groups: set[str]) -> bool:
    """Is the user (or one of its direct groups) inside `group`, through nested groups?
    Walks members downwards; a member that is a group has a $ref of "Groups/<id>"."""
    seen: set[str] = set()
    todo = [group]
    while todo and len(seen) < _MAX_GROUP_LOOKUPS:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        query = {
            "filter": f"displayName eq {_scim_quote(name)}",
            "attributes": "id,displayName,members",
        }
        for g in get(api, _SCIM_GROUPS, query=query).get("Resources") or ():
            for m in g.get("members") or ():
                is_group = str(m.get("$ref", "")).startswith("Groups/")
                if not is_group and str(m.get("value")) == user_id:
                    return True
                if is_group:
                    inner = str(m.get("display", ""))
                    if inner in user_groups:
                        return True
                    todo.append(inner)
    return False
