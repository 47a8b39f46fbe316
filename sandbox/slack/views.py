"""views.open / views.publish / views.update and the trigger_ids that open modals."""

from __future__ import annotations

import itertools
import secrets
import threading
from typing import Any

from sandbox.slack.apierror import ApiError, Ctx, invalid_arguments
from sandbox.slack.blockkit import check_view
from sandbox.slack.chat import json_param

TRIGGER_TTL = 3.0  # seconds; Bolt: "Pass a valid trigger_id within 3 seconds"


class Triggers:
    """trigger_ids handed to the app with each interaction; each opens one view, briefly."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._issued: dict[str, tuple[float, bool]] = {}
        self._seq = itertools.count(1)

    def issue(self, now: float) -> str:
        tid = f"{next(self._seq)}.{int(now)}.{secrets.token_hex(16)}"
        with self._lock:
            self._issued[tid] = (now, False)
        return tid

    def exchange(self, tid: str, now: float) -> None:
        with self._lock:
            if tid not in self._issued:
                raise ApiError("invalid_trigger_id")
            issued, used = self._issued[tid]
            if used:
                raise ApiError("exchanged_trigger_id")
            if now - issued > TRIGGER_TTL:
                raise ApiError("expired_trigger_id")
            self._issued[tid] = (issued, True)


_view_seq = itertools.count(1)


def _view(ctx: Ctx, kind: str) -> dict[str, Any]:
    view = json_param(ctx, "view", "invalid_arguments")
    if view is None:
        raise invalid_arguments("missing required field: view")
    if isinstance(view, dict) and view.get("type") != kind:
        raise invalid_arguments(f"view type must be {kind}")
    errors = check_view(view)
    if errors:
        raise ApiError(
            "invalid_arguments", response_metadata={"messages": [f"[ERROR] {e}" for e in errors]}
        )
    return view


def _stored(ctx: Ctx, view: dict[str, Any], view_id: str | None = None) -> dict[str, Any]:
    ws = ctx.state.ws
    return {
        "id": view_id or f"V{next(_view_seq):08d}",
        "team_id": ws.team_id,
        "type": view["type"],
        "blocks": view.get("blocks", []),
        "private_metadata": view.get("private_metadata", ""),
        "callback_id": view.get("callback_id", ""),
        "external_id": view.get("external_id", ""),
        "title": view.get("title"),
        "submit": view.get("submit"),
        "close": view.get("close"),
        "state": {"values": {}},
        "hash": secrets.token_hex(8),
        "root_view_id": None,
        "previous_view_id": None,
        "app_id": ws.bot.app_id,
        "bot_id": ws.bot.bot_id,
    }


def views_open(ctx: Ctx) -> dict[str, Any]:
    trigger = ctx.get("trigger_id")
    if trigger is None:
        raise invalid_arguments("missing required field: trigger_id")
    view = _view(ctx, "modal")
    ctx.triggers.exchange(str(trigger), ctx.state.now())
    stored = _stored(ctx, view)
    stored["root_view_id"] = stored["id"]
    ctx.state.views[stored["id"]] = stored
    ctx.state.touch()
    return {"ok": True, "view": stored}


def views_publish(ctx: Ctx) -> dict[str, Any]:
    user_id = str(ctx.require("user_id"))
    if ctx.state.ws.user(user_id) is None:
        raise ApiError("user_not_found")
    view = _view(ctx, "home")
    old = ctx.state.home_views.get(user_id)
    given_hash = ctx.get("hash")
    if old is not None and given_hash is not None and given_hash != old["hash"]:
        raise ApiError("hash_conflict")
    stored = _stored(ctx, view, old["id"] if old else None)
    ctx.state.home_views[user_id] = stored
    ctx.state.views[stored["id"]] = stored
    ctx.state.touch()
    return {"ok": True, "view": stored}


def views_update(ctx: Ctx) -> dict[str, Any]:
    view_id = ctx.get("view_id")
    external_id = ctx.get("external_id")
    if view_id is None and external_id is None:
        raise invalid_arguments("either view_id or external_id is required")
    old = (
        ctx.state.views.get(str(view_id))
        if view_id
        else next((v for v in ctx.state.views.values() if v["external_id"] == external_id), None)
    )
    if old is None:
        raise ApiError("not_found")
    if ctx.get("hash") is not None and ctx.get("hash") != old["hash"]:
        raise ApiError("hash_conflict")
    stored = _stored(ctx, _view(ctx, old["type"]), old["id"])
    stored["root_view_id"] = old["root_view_id"]
    ctx.state.views[old["id"]] = stored
    ctx.state.touch()
    return {"ok": True, "view": stored}


METHODS = {
    "views.open": views_open,
    "views.publish": views_publish,
    "views.update": views_update,
}
