"""`jobs-bot ask "/jobs failing 24h"`: answer a command end to end without Slack (parsing,
queries, monitors, templates) and print it as readable text or as the Block Kit payload.

Operators use it to check a config before deploying and, with `--at`, to replay what the bot
would have said at a past moment.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from bot.cli.check_config import DEFAULT_CONFIG
from bot.errors import UserError

DEFAULT_DB = os.environ.get("JOBS_BOT_DB", "jobs-bot.duckdb")


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    s = sub.add_parser("ask", help='answer a /jobs command in the terminal: ask "/jobs failing"')
    s.add_argument("text", help='the command, e.g. "/jobs failing 24h"')
    s.add_argument("--at", default=None, help="ISO time to treat as now")
    s.add_argument("--db", default=DEFAULT_DB)
    s.add_argument("--config", default=DEFAULT_CONFIG)
    s.add_argument("--user", default="U0ASKCLI", help="Slack user id asking")
    s.add_argument("--json", action="store_true", help="print the Block Kit payload")
    s.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from bot import wiring
    from bot.clock import FixedClock, SystemClock, parse_instant
    from bot.config import load_config
    from bot.render.text import flatten
    from bot.warehouse import open_warehouse

    db = args.db
    if not Path(db).is_file():
        raise UserError(f"No warehouse file at {db}. Create one with `jobs-bot seed --db {db}`.")
    try:
        clock = FixedClock(parse_instant(args.at)) if args.at else SystemClock()
    except ValueError as e:
        raise UserError(str(e)) from None
    cfg = load_config(args.config)
    bot = wiring.build(cfg, clock, warehouse=open_warehouse(db))
    try:
        answer = bot.answers.answer_text(args.text, user_id=args.user)
    finally:
        bot.stop()
    if args.json:
        print(json.dumps(answer.payload(), ensure_ascii=False, indent=2))
    else:
        print(flatten(answer.payload()))
    return 0
