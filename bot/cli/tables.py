"""`jobs-bot load DIR` / `jobs-bot export DIR`: system tables between files (one per table,
Parquet or JSONL) and an embedded warehouse file."""

from __future__ import annotations

import argparse

from bot.cli.ask import DEFAULT_DB


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    s = sub.add_parser("load", help="load an export of system tables (one file per table)")
    s.add_argument("dir")
    s.add_argument("--db", default=DEFAULT_DB)
    s.set_defaults(handler=load)

    s = sub.add_parser("export", help="write every system table of a warehouse file to DIR")
    s.add_argument("dir")
    s.add_argument("--db", default=DEFAULT_DB)
    s.add_argument("--format", choices=["parquet", "jsonl"], default="parquet")
    s.set_defaults(handler=export)


def load(args: argparse.Namespace) -> int:
    from bot.warehouse.loader import load_dir

    rows = load_dir(args.dir, args.db)
    print(f"loaded {sum(rows.values())} rows into {args.db}")
    for name, n in rows.items():
        print(f"  {name:40} {n:>10}")
    return 0


def export(args: argparse.Namespace) -> int:
    from bot.warehouse.loader import export_dir

    paths = export_dir(args.db, args.dir, args.format)
    print(f"wrote {len(paths)} files to {args.dir}")
    return 0
