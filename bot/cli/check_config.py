"""`jobs-bot check-config FILE`: every problem in a config file, with its path in the file."""

from __future__ import annotations

import argparse

DEFAULT_CONFIG = "jobs-bot.yml"


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    s = sub.add_parser("check-config", help="validate a config file")
    s.add_argument("file", nargs="?", default=DEFAULT_CONFIG)
    s.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from bot.config import check_file

    problems = check_file(args.file)
    for line in problems:
        print(line)
    if problems:
        return 1
    print(f"{args.file}: OK")
    return 0
