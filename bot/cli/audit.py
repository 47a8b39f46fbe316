"""`jobs-bot audit`: who did what through the bot (acks, snoozes, reruns, mutes, refusals), read
from the state store's audit log, newest first, as a table or JSON.

Without --config and without a jobs-bot.yml here, it reads the demo's store in this folder
(jobs-bot-demo-state.db, which `jobs-bot demo` keeps), so a newcomer sees what they did.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bot.cli.check_config import DEFAULT_CONFIG
from bot.errors import UserError

DEMO_STATE = "jobs-bot-demo-state.db"
# Entries read before --job filters them (names live in each entry's detail, not a column).
MAX_ENTRIES = 5000


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    s = sub.add_parser("audit", help="who did what through the bot (acks, reruns, mutes…)")
    s.add_argument("--config", default=None, help=f"config file (default: {DEFAULT_CONFIG})")
    s.add_argument("--since", default="7d", help="how far back: 24h, 7d, 30d… (default 7d)")
    s.add_argument("--job", default=None, help="only this job (name, job id or ws/job id)")
    s.add_argument("--format", choices=("table", "json"), default="table")
    s.set_defaults(handler=run)


def state_url(config_path: str | None) -> str:
    """The store to read: the config's, else the demo's in this folder."""
    from bot.config import load_config

    if config_path is not None or Path(DEFAULT_CONFIG).is_file():
        return load_config(config_path or DEFAULT_CONFIG).state_url
    if Path(DEMO_STATE).is_file():
        return f"sqlite:///{DEMO_STATE}"
    raise UserError(
        f"No {DEFAULT_CONFIG} and no demo state ({DEMO_STATE}) in this folder. Point me at "
        "the bot's config with --config FILE (its state.url names the store), or run this "
        "in the folder where you ran `jobs-bot demo`."
    )


def run(args: argparse.Namespace) -> int:
    from bot.clock import SystemClock
    from bot.grammar import parse_span
    from bot.store import Store

    span = parse_span(args.since)
    if span is None:
        raise UserError(f"--since {args.since!r} is not a span: try 24h, 7d or 30d")
    clock = SystemClock()
    with Store.open(state_url(args.config), clock) as store:
        entries = store.audit.entries(since=clock.now() - span, limit=MAX_ENTRIES)
    rows = [_row(e) for e in entries]
    if args.job:
        rows = _of_job(rows, args.job)
    if args.format == "json":
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        print(_table(rows, args.since))
    return 0


def _row(entry: Any) -> dict[str, Any]:
    detail = dict(entry.detail or {})
    return {
        "at": entry.at.isoformat(),
        "actor_id": entry.actor_id,
        "actor_email": entry.actor_email,
        "action": entry.action,
        "result": entry.result,
        "workspace_id": entry.workspace_id,
        "job_id": entry.job_id,
        "job_name": detail.get("job_name"),
        "run_id": entry.run_id,
        "incident_id": entry.incident_id,
        "detail": detail,
    }


def _of_job(rows: list[dict[str, Any]], wanted: str) -> list[dict[str, Any]]:
    """Entries of the job named (part of its name), or by job id or workspace/job id. A name
    found on some entries selects that job's entries without one (a mute, a refusal)."""
    want = wanted.strip().lower()

    def key(r: dict[str, Any]) -> tuple[str, str]:
        return (str(r["workspace_id"] or ""), str(r["job_id"] or ""))

    named = {key(r) for r in rows if r["job_name"] and want in str(r["job_name"]).lower()}
    return [
        r
        for r in rows
        if r["job_id"] and (key(r) in named or want in (key(r)[1], "/".join(key(r))))
    ]


def _table(rows: list[dict[str, Any]], since: str) -> str:
    if not rows:
        return f"No audit entries in the last {since}."
    head = ("when (UTC)", "who", "action", "result", "job", "run", "detail")
    body = [
        (
            r["at"][:19].replace("T", " "),
            r["actor_email"] or r["actor_id"] or "—",
            r["action"],
            r["result"],
            r["job_name"] or (f"{r['workspace_id']}/{r['job_id']}" if r["job_id"] else "—"),
            r["run_id"] or "—",
            _short(r["detail"]),
        )
        for r in rows
    ]
    widths = [min(40, max(len(str(x[i])) for x in (head, *body))) for i in range(len(head) - 1)]
    lines = []
    for cells in (head, *body):
        fixed = [str(c)[:w].ljust(w) for c, w in zip(cells[:-1], widths, strict=True)]
        lines.append("  ".join([*fixed, str(cells[-1])]).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths) + "  ------")
    return "\n".join(lines)


def _short(detail: dict[str, Any]) -> str:
    shown = {k: v for k, v in detail.items() if k != "job_name"}
    text = ", ".join(f"{k}={v}" for k, v in shown.items())
    return text if len(text) <= 80 else text[:79] + "…"
