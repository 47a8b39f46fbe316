"""`jobs-bot run`: the production entry point. Socket Mode by default (no public URL needed),
HTTP mode with `--http PORT`. Secrets come only from the environment.

SIGTERM (what Kubernetes, systemd and `docker stop` send) stops the bot the way Ctrl-C does:
no new requests, the answers already acknowledged are finished and delivered (within a bound),
then the state store and the warehouse are closed; scheduled work still stuck after its bound
(bot/scheduler.py STOP_SECONDS) is left to the next start. Python's default for SIGTERM is to
die at once, which dropped every answer in flight. A second signal ends the wait.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from bot.cli.check_config import DEFAULT_CONFIG
from bot.errors import UserError

log = logging.getLogger(__name__)


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
    with _sigterm_as_interrupt():
        try:
            bot.serve_forever()
        except Terminated:
            pass  # asked to stop (SIGTERM): a clean exit, status 0, once stopped below
        finally:
            log.info("jobs-bot stopping: finishing the answers in flight")
            bot.stop()
            log.info("jobs-bot stopped")
    if bot.scheduler is not None and bot.scheduler.unfinished:
        # A poll still stuck in a call (a dead Slack or workspace) would hold the interpreter's
        # exit until it gave up: the pool's threads are joined at exit. Its work is redone on
        # the next start (claims are atomic), so leave now, as a kill would, but cleanly logged.
        logging.shutdown()
        os._exit(0)
    return 0


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C would be so the same clean-up runs."""


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """While inside, SIGTERM raises Terminated (a KeyboardInterrupt) in the main thread."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise Terminated

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
