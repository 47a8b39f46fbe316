"""Checks that need more than one section (or more than one entry of a list): routing rules
must name known channels and workspaces, job references must point at listed workspaces,
workspace ids and names unique, and no job has two SLA rules of one kind that apply on the
same day.

They read the raw parsed YAML defensively (sections may be malformed too), so these problems
are reported together with the per-field ones instead of after them.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from typing import Any

from bot.config.parsing import _show, format_days, parse_days

Path_ = tuple[str | int, ...]
LineOf = Callable[[Path_], int | None]


def _as_dict(value: Any) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def cross_check(
    data: dict[str, Any], line_of: LineOf = lambda path: None
) -> Iterator[tuple[Path_, str]]:
    """(path, message) for each problem; `line_of` gives the line of another entry a message
    points at ("the first is slas[0], line 15")."""
    slack = _as_dict(data.get("slack"))
    channel_keys = [str(k) for k in _as_dict(slack.get("channels"))]
    workspaces = [_as_dict(w) for w in _as_list(data.get("workspaces"))]
    ws_ids = [str(w.get("id")) for w in workspaces if w.get("id") is not None]
    ws_names = [str(w.get("name")) for w in workspaces if w.get("name") is not None]

    warehouse = data.get("warehouse")
    if isinstance(warehouse, dict):
        kinds = [k for k in ("embedded", "databricks") if warehouse.get(k) is not None]
        if len(kinds) != 1:
            yield ("warehouse",), "give either embedded or databricks"

    yield from _unique(workspaces, "id")
    yield from _unique(workspaces, "name")

    for i, rule in enumerate(_as_list(data.get("routing"))):
        rule = _as_dict(rule)
        channel = rule.get("channel")
        if isinstance(channel, str) and _is_channel_key(channel) and channel not in channel_keys:
            close = difflib.get_close_matches(channel, channel_keys, n=1)
            hint = f'did you mean "{close[0]}"? ' if close else ""
            yield (
                ("routing", i, "channel"),
                f"{_show(channel)} is not a key of slack.channels; {hint}"
                f'write "#{channel}" for a channel by its name',
            )
        workspace = rule.get("workspace")
        if workspace is not None and workspaces and str(workspace) not in ws_ids + ws_names:
            yield (
                ("routing", i, "workspace"),
                f"{_show(workspace)} is not the id or name of a workspace under workspaces",
            )
        yield from _job_workspace(rule.get("job"), ("routing", i, "job"), workspaces, ws_ids)

    for i, rule in enumerate(_as_list(data.get("slas"))):
        yield from _job_workspace(_as_dict(rule).get("job"), ("slas", i, "job"), workspaces, ws_ids)
    yield from _sla_twins(_as_list(data.get("slas")), line_of)


def _is_channel_key(value: str) -> bool:
    text = value.strip()
    return bool(text) and not text.startswith("#") and not text[:1].isupper()


def _unique(workspaces: list[dict[Any, Any]], key: str) -> Iterator[tuple[Path_, str]]:
    seen: set[str] = set()
    for i, ws in enumerate(workspaces):
        value = ws.get(key)
        if value is None:
            continue
        if str(value) in seen:
            yield ("workspaces", i, key), f"{_show(str(value))} is listed twice"
        seen.add(str(value))


def _job_workspace(
    job: Any, path: Path_, workspaces: list[dict[Any, Any]], ws_ids: list[str]
) -> Iterator[tuple[Path_, str]]:
    ws = _as_dict(job).get("workspace_id")
    if ws is not None and workspaces and str(ws) not in ws_ids:
        yield (*path, "workspace_id"), f"{_show(str(ws))} is not a workspace under workspaces"


# --- two SLA rules for one job ------------------------------------------------------------

_SLA_KINDS = ("deadline", "max_duration", "freshness")


def _sla_twins(rules: list[Any], line_of: LineOf) -> Iterator[tuple[Path_, str]]:
    """A job with two rules of one kind that apply on the same day: two deadlines for Monday,
    two duration limits. /jobs sla would list the job twice with different verdicts, and both
    rules would alert for the same run. Rules of different kinds (a deadline and a duration
    limit) for one job are fine, and so are deadlines on days that do not overlap (07:00
    Mon-Fri, 10:00 Sat-Sun). A rule by name and one by id cannot be compared here: whether
    they are the same job is only known in the warehouse."""
    seen: list[tuple[int, str, tuple[str | None, str | None, str | None], frozenset[int]]] = []
    for i, raw in enumerate(rules):
        rule = _as_dict(raw)
        kinds = [k for k in _SLA_KINDS if rule.get(k) is not None]
        job = _job_key(rule.get("job"))
        if len(kinds) != 1 or job is None:
            continue  # reported by the rule's own validation
        kind = kinds[0]
        try:
            days = parse_days(rule.get("days")) if kind == "deadline" else frozenset(range(7))
        except ValueError:
            continue
        for j, other_kind, other_job, other_days in seen:
            both = days & other_days
            if other_kind != kind or not both or not _same_job(job, other_job):
                continue
            line = line_of(("slas", j))
            where = f"slas[{j}]" + (f", line {line}" if line is not None else "")
            on = f" on {format_days(both)}" if kind == "deadline" else ""
            hint = (
                "keep one, or give them days that do not overlap"
                if kind == "deadline"
                else "keep one"
            )
            yield (
                ("slas", i),
                f"a second {kind} rule for {_describe(job)}{on} (the first is {where}); {hint}",
            )
            break
        seen.append((i, kind, job, days))


def _job_key(job: Any) -> tuple[str | None, str | None, str | None] | None:
    """(name, workspace_id, job_id) of a rule's job selector, or None when it is malformed."""
    if not isinstance(job, dict):
        return None
    # YAML reads `job_id: 7` as a number and `"7"` as text: the same job either way.
    name, ws, job_id = (
        None if job.get(k) is None else str(job.get(k)).strip()
        for k in ("name", "workspace_id", "job_id")
    )
    if name is None and job_id is None:
        return None
    return name, ws, job_id


def _same_job(
    a: tuple[str | None, str | None, str | None], b: tuple[str | None, str | None, str | None]
) -> bool:
    (name_a, ws_a, id_a), (name_b, ws_b, id_b) = a, b
    if id_a is not None and id_b is not None:
        return (ws_a, id_a) == (ws_b, id_b)
    if id_a is not None or id_b is not None:
        return False  # one by id, one by name: only the warehouse knows
    # By name: the same name, in the same workspace or in any (no workspace_id).
    return name_a == name_b and (ws_a is None or ws_b is None or ws_a == ws_b)


def _describe(job: tuple[str | None, str | None, str | None]) -> str:
    name, ws, job_id = job
    if job_id is not None:
        return f"job {job_id} in workspace {ws}"
    return f"job {_show(name)}" + (f" in workspace {ws}" if ws is not None else "")
