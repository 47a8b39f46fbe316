"""`jobs-bot replay --config FILE --db PATH --from ISO --to ISO [--json]`: every message the bot
would have sent over a past period (bot/service/replay.py), read from an embedded warehouse
file as it was at each moment, on a fresh in-memory store. Posts nothing; needs no Slack or
Databricks credentials. Prints the messages in time order: readable lines, or with `--json`
one JSON object per line."""

from __future__ import annotations

import argparse
import json
import logging

from bot.cli.check_config import DEFAULT_CONFIG
from bot.errors import UserError


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    s = sub.add_parser(
        "replay",
        help="every message the bot would have sent over a past period (posts nothing)",
    )
    s.add_argument("--config", default=DEFAULT_CONFIG)
    s.add_argument("--db", required=True, help="the embedded warehouse file to read")
    s.add_argument("--from", dest="start", required=True, help="ISO time, e.g. 2026-03-02T00:00Z")
    s.add_argument("--to", dest="end", required=True, help="ISO time (exclusive)")
    s.add_argument("--json", action="store_true", help="one JSON object per message and line")
    s.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from bot.clock import parse_instant
    from bot.config import load_config
    from bot.render.text import readable
    from bot.wiring import build_replay

    try:
        start, end = parse_instant(args.start), parse_instant(args.end)
    except ValueError as e:
        raise UserError(str(e)) from None
    if end <= start:
        raise UserError("--to must be after --from")
    cfg = load_config(args.config, env={})
    # The use cases' INFO lines ("digest queued") carry today's wall-clock time, not the
    # replayed moment: only warnings go to stderr unless --verbose.
    quiet = logging.getLogger("bot.service")
    level = quiet.level
    if not getattr(args, "verbose", False):
        quiet.setLevel(logging.WARNING)
    try:
        with build_replay(cfg, args.db, start=start) as replay:
            result = replay.run(start, end)
    finally:
        quiet.setLevel(level)
    for m in result.messages:
        if args.json:
            print(json.dumps(m.to_json(), ensure_ascii=False))
            continue
        stamp = m.at.strftime("%Y-%m-%d %H:%M:%SZ")
        edit = f" (edits {m.update_of:%H:%M:%SZ})" if m.update_of else ""
        job = f" {m.job['name'] or m.job['job_id']}" if m.job else ""
        print(f"{stamp} {m.channel} {m.kind}{job}{edit}: {readable(m.text)}")
    if not args.json:
        print(
            f"-- {len(result.messages)} message(s) over {result.steps} step(s); "
            f"replayed: {', '.join(result.included)}"
        )
    return 0
