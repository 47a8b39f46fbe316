"""The identity handlers: job permissions (/api/2.0/permissions/jobs/{job_id}) and the
workspace SCIM lookups (/api/2.0/preview/scim/v2/Users, Groups, Me) a permission check needs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sandbox.databricks.call import Call
from sandbox.databricks.errors import ApiError, invalid
from sandbox.databricks.model import ADMINS, LEVELS, Group, Job, User
from sandbox.databricks.workspace import DatabricksWorkspace

Handler = Callable[[Call], dict[str, Any]]

_LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
_FILTER = re.compile(r'^\s*(\w+)\s+(eq|co|sw)\s+"([^"]*)"\s*$', re.IGNORECASE)


def _job(call: Call) -> Job:
    try:
        job_id = int(call.path["job_id"])
    except ValueError:
        raise invalid(f"Invalid job id {call.path['job_id']!r}.") from None
    job = call.ws.jobs.get(job_id)
    if job is None:  # the permissions API answers 404 for a missing object
        raise ApiError(404, "RESOURCE_DOES_NOT_EXIST", f"Job {job_id} does not exist.")
    return job


def _principal_entry(ws: DatabricksWorkspace, principal: str) -> dict[str, Any]:
    if principal == ws.sp.application_id:
        return {"service_principal_name": principal, "display_name": ws.sp.display_name}
    return {"user_name": principal, "display_name": ws.display_name(principal)}


def permissions_json(ws: DatabricksWorkspace, job: Job) -> dict[str, Any]:
    acl: list[dict[str, Any]] = []
    for principal, level in job.acl_users.items():
        entry = _principal_entry(ws, principal)
        entry["all_permissions"] = [{"permission_level": level, "inherited": False}]
        acl.append(entry)
    groups = dict(job.acl_groups)
    for name, level in groups.items():
        perms: list[dict[str, Any]] = [{"permission_level": level, "inherited": False}]
        if name == ADMINS:
            perms.append(_admin_grant())
        acl.append({"group_name": name, "all_permissions": perms})
    if ADMINS not in groups:  # workspace admins manage every job, inherited from /jobs/
        acl.append({"group_name": ADMINS, "all_permissions": [_admin_grant()]})
    return {"object_id": f"/jobs/{job.job_id}", "object_type": "job", "access_control_list": acl}


def _admin_grant() -> dict[str, Any]:
    return {
        "permission_level": "CAN_MANAGE",
        "inherited": True,
        "inherited_from_object": ["/jobs/"],
    }


def permissions_get(call: Call) -> dict[str, Any]:
    job = _job(call)
    call.ws.require(call.principal, job, "CAN_VIEW")
    return permissions_json(call.ws, job)


def permission_levels(call: Call) -> dict[str, Any]:
    _job(call)
    return {"permission_levels": [{"permission_level": lv, "description": ""} for lv in LEVELS]}


def _write(call: Call, replace: bool) -> dict[str, Any]:
    job = _job(call)
    call.ws.require(call.principal, job, "CAN_MANAGE")
    users = {} if replace else dict(job.acl_users)
    groups = {} if replace else dict(job.acl_groups)
    for entry in call.body.get("access_control_list") or []:
        level = entry.get("permission_level")
        if level not in LEVELS:
            raise invalid(f"Invalid permission level {level!r}.")
        name = entry.get("user_name") or entry.get("service_principal_name")
        if name:
            users[name] = level
        elif entry.get("group_name"):
            groups[entry["group_name"]] = level
        else:
            raise invalid("Each access control entry needs a user, group or service principal.")
    try:
        call.ws.set_acl(job, users, groups)
    except KeyError as e:
        raise invalid(str(e.args[0])) from None
    return permissions_json(call.ws, job)


def permissions_put(call: Call) -> dict[str, Any]:
    return _write(call, replace=True)


def permissions_patch(call: Call) -> dict[str, Any]:
    return _write(call, replace=False)


# -- SCIM --------------------------------------------------------------------------------
def _groups_of(ws: DatabricksWorkspace, principal: str) -> list[dict[str, Any]]:
    """A user's `groups`: its direct groups, type "direct". No Databricks source says whether
    workspace SCIM also lists groups reached through nested groups (RFC 7643 §4.1.2 allows it,
    as type "indirect"), so by default they are left out, and a client must walk nested groups
    itself; `ws.scim_lists_indirect_groups` serves the RFC's other shape, for tests of both."""
    direct = {g.name for g in ws.groups.values() if principal in g.members}
    names = ws.principal_groups(principal) if ws.scim_lists_indirect_groups else direct
    out = []
    for name in sorted(names):
        g = ws.groups[name]
        kind = "direct" if name in direct else "indirect"  # reached through a nested group
        out.append({"display": g.name, "value": g.id, "$ref": f"Groups/{g.id}", "type": kind})
    return out


def user_json(ws: DatabricksWorkspace, user: User) -> dict[str, Any]:
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": user.id,
        "userName": user.user_name,
        "displayName": user.display_name,
        "active": True,
        "emails": [{"value": user.user_name, "type": "work", "primary": True}],
        "groups": _groups_of(ws, user.user_name),
    }


def group_json(ws: DatabricksWorkspace, group: Group) -> dict[str, Any]:
    members = [
        {
            "display": ws.users[u].display_name,
            "value": ws.users[u].id,
            "$ref": f"Users/{ws.users[u].id}",
        }
        for u in sorted(group.members)
        if u in ws.users
    ]
    members += [
        {"display": n, "value": ws.groups[n].id, "$ref": f"Groups/{ws.groups[n].id}"}
        for n in sorted(group.subgroups)
    ]
    parents = [
        {"display": g.name, "value": g.id, "$ref": f"Groups/{g.id}", "type": "direct"}
        for g in ws.groups.values()
        if group.name in g.subgroups
    ]
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "id": group.id,
        "displayName": group.name,
        "members": members,
        "groups": parents,
    }


def _matcher(text: str | None, fields: dict[str, str]) -> Callable[[dict[str, Any]], bool]:
    """The SCIM filters the bot uses: `attr eq|co|sw "value"`, clauses joined by `and`."""
    if not text:
        return lambda _: True
    tests = []
    for clause in re.split(r"\s+and\s+", text, flags=re.IGNORECASE):
        m = _FILTER.match(clause)
        if m is None or m.group(1).lower() not in fields:
            raise invalid(f"Unsupported SCIM filter: {text!r}")
        attr, op, value = fields[m.group(1).lower()], m.group(2).lower(), m.group(3).lower()
        tests.append((attr, op, value))

    def match(resource: dict[str, Any]) -> bool:
        for attr, op, value in tests:
            have = str(resource.get(attr, "")).lower()  # SCIM string compares ignore case
            ok = (
                have == value
                if op == "eq"
                else value in have
                if op == "co"
                else have.startswith(value)
            )
            if not ok:
                return False
        return True

    return match


def _list(call: Call, resources: list[dict[str, Any]], fields: dict[str, str]) -> dict[str, Any]:
    match = _matcher(call.get_str("filter"), fields)
    found = [r for r in resources if match(r)]
    start = max(1, call.get_int("startIndex", 1) or 1)
    count = call.get_int("count", 10000) or 10000
    page = found[start - 1 : start - 1 + count]
    out: dict[str, Any] = {
        "schemas": [_LIST],
        "totalResults": len(found),
        "startIndex": start,
        "itemsPerPage": len(page),
    }
    if page:  # an empty page has no Resources key: the SDK stops paging on it
        out["Resources"] = page
    return out


def scim_users(call: Call) -> dict[str, Any]:
    users = [user_json(call.ws, u) for u in call.ws.users.values()]
    return _list(call, users, {"username": "userName", "displayname": "displayName", "id": "id"})


def scim_user(call: Call) -> dict[str, Any]:
    for user in call.ws.users.values():
        if user.id == call.path["id"]:
            return user_json(call.ws, user)
    raise ApiError(404, "RESOURCE_DOES_NOT_EXIST", f"User {call.path['id']} does not exist.")


def scim_groups(call: Call) -> dict[str, Any]:
    groups = [group_json(call.ws, g) for g in call.ws.groups.values()]
    return _list(call, groups, {"displayname": "displayName", "id": "id"})


def scim_group(call: Call) -> dict[str, Any]:
    for group in call.ws.groups.values():
        if group.id == call.path["id"]:
            return group_json(call.ws, group)
    raise ApiError(404, "RESOURCE_DOES_NOT_EXIST", f"Group {call.path['id']} does not exist.")


def scim_me(call: Call) -> dict[str, Any]:
    ws = call.ws
    if call.principal in ws.users:
        return user_json(ws, ws.users[call.principal])
    return {  # the service principal: its "user name" is its application id
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": ws.sp.id,
        "userName": ws.sp.application_id,
        "displayName": ws.sp.display_name,
        "active": True,
        "groups": _groups_of(ws, ws.sp.application_id),
    }


# (method, full path, counter name, handler)
ROUTES: list[tuple[str, str, str, Handler]] = [
    ("GET", "/api/2.0/permissions/jobs/{job_id}", "permissions/jobs", permissions_get),
    ("PUT", "/api/2.0/permissions/jobs/{job_id}", "permissions/jobs:put", permissions_put),
    ("PATCH", "/api/2.0/permissions/jobs/{job_id}", "permissions/jobs:patch", permissions_patch),
    (
        "GET",
        "/api/2.0/permissions/jobs/{job_id}/permissionLevels",
        "permissions/jobs/levels",
        permission_levels,
    ),
    ("GET", "/api/2.0/preview/scim/v2/Users", "scim/Users", scim_users),
    ("GET", "/api/2.0/preview/scim/v2/Users/{id}", "scim/Users/id", scim_user),
    ("GET", "/api/2.0/preview/scim/v2/Groups", "scim/Groups", scim_groups),
    ("GET", "/api/2.0/preview/scim/v2/Groups/{id}", "scim/Groups/id", scim_group),
    ("GET", "/api/2.0/preview/scim/v2/Me", "scim/Me", scim_me),
]
