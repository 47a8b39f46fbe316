"""`jobs-bot replay --config FILE --db PATH --from ISO --to ISO [--json]`: every message the bot
would have sent over a past period (bot/service/replay.py), read from an embedded warehouse
file as it was at each moment, on a fresh in-memory store. Posts nothing; needs no Slack or
Databricks credentials. Prints the messages in time order: readable lines, or with `--json`
one JSON object per line."""

from __future__ import annotations

import argparse
import json

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
    from bot.clock import FixedClock, parse_instant
    from bot.config import load_config
    from bot.render import Renderer
    from bot.render.text import readable
    from bot.service.replay import Replay
    from bot.store import Store
    from bot.warehouse.as_of import AsOfWarehouse

    try:
        start, end = parse_instant(args.start), parse_instant(args.end)
    except ValueError as e:
        raise UserError(str(e)) from None
    if end <= start:
        raise UserError("--to must be after --from")
    cfg = load_config(args.config, env={})
    clock = FixedClock(start)
    warehouse = AsOfWarehouse.open(args.db)
    store = Store.open("sqlite://", clock)
    try:
        renderer = Renderer(tz=cfg.timezone, currency=cfg.cost.currency, clock=clock)
        replay = Replay(config=cfg, clock=clock, renderer=renderer, store=store,
                        warehouse=warehouse)  # fmt: skip
        result = replay.run(start, end)
    finally:
        store.close()
        warehouse.close()
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
