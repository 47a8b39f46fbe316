"""Checks that need more than one section: routing rules must name known channels and
workspaces, job references must point at listed workspaces, workspace ids and names unique.

They read the raw parsed YAML defensively (sections may be malformed too), so these problems
are reported together with the per-field ones instead of after them.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Any

from bot.config.parsing import _show

Path_ = tuple[str | int, ...]


def _as_dict(value: Any) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def cross_check(data: dict[str, Any]) -> Iterator[tuple[Path_, str]]:
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
