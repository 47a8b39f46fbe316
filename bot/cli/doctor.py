"""`jobs-bot doctor [--config FILE]`: checks a deployment end to end, one line per check with
the fix; exits 1 when any check failed."""

from __future__ import annotations

import argparse

from bot.cli.check_config import DEFAULT_CONFIG


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    s = sub.add_parser(
        "doctor",
        help="check a deployment: config, secrets, Slack, warehouse, Jobs API, store",
    )
    s.add_argument("--config", default=DEFAULT_CONFIG)
    s.add_argument(
        "--manifest",
        default=None,
        metavar="FILE",
        help="the Slack app manifest to compare scopes with (default: ./manifest.yml)",
    )
    s.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import os

    from bot.doctor import diagnose, failed

    lines = diagnose(args.config, env=os.environ, manifest=args.manifest)
    for line in lines:
        print(line.render(), flush=True)
    bad = sum(1 for line in lines if line.status == "fail")
    print(f"{bad} check(s) failed" if bad else "all checks passed")
    return 1 if failed(lines) else 0
