"""`jobs-bot run`: the production entry point. Socket Mode by default (no public URL needed),
HTTP mode with `--http PORT`. Secrets come only from the environment."""

from __future__ import annotations

import argparse

from bot.cli.check_config import DEFAULT_CONFIG
from bot.errors import UserError


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    s = sub.add_parser("run", help="production: Socket Mode (default) or HTTP mode")
    s.add_argument("--config", default=DEFAULT_CONFIG)
    s.add_argument("--http", type=int, metavar="PORT", default=None, help="serve HTTP on PORT")
    s.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from bot import wiring
    from bot.clock import SystemClock
    from bot.config import load_config

    cfg = load_config(args.config)
    mode = "http" if args.http is not None else cfg.slack.mode
    missing = cfg.secrets.missing_for(mode, databricks=cfg.uses_databricks)
    if missing:
        raise UserError(f"set these environment variables first: {', '.join(missing)}")
    # Answers, and the half that speaks first: the store, the Jobs API watchers, the
    # notifier and the scheduler, all in this process.
    bot = wiring.build(
        cfg,
        SystemClock(),
        slack=wiring.slack_link_from_config(cfg, http_port=args.http),
        store=True,
        watch=True,
    )
    try:
        bot.serve_forever()
    finally:
        bot.stop()
    return 0
