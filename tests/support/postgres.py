"""A throwaway PostgreSQL server for tests: Debian's binaries, a cluster in a temporary
directory, listening on a free port on 127.0.0.1 with its socket in that directory, stopped
and deleted afterwards. PostgreSQL refuses to run as root, so under root (CI containers)
initdb and pg_ctl run as the `postgres` system user, which owns the directory.

`start_postgres()` raises `PostgresUnavailable` with the reason when this machine cannot run
one (no binaries; root without a `postgres` user); the caller decides to skip or fail.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg
from psycopg import sql

START_TIMEOUT_SECONDS = 30


class PostgresUnavailable(Exception):
    """This machine cannot run a throwaway PostgreSQL server; the message says why."""


@dataclass
class PostgresServer:
    url: str  # SQLAlchemy form: postgresql+psycopg://postgres@127.0.0.1:<port>/postgres
    directory: Path
    bindir: Path
    run_as: list[str]

    def stop(self) -> None:
        # "immediate": the data is thrown away, so skip the shutdown checkpoint.
        subprocess.run(
            [*self.run_as, str(self.bindir / "pg_ctl"), "-D", str(self.directory / "data")]
            + ["-m", "immediate", "-w", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.directory, ignore_errors=True)


def find_bindir() -> Path | None:
    """Debian's newest /usr/lib/postgresql/<version>/bin, else initdb on PATH."""
    candidates = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    candidates.sort(key=lambda path: int(Path(path).parent.parent.name or 0), reverse=True)
    if not candidates and (on_path := shutil.which("initdb")):
        candidates = [on_path]
    for initdb in candidates:
        bindir = Path(initdb).parent
        if os.access(bindir / "pg_ctl", os.X_OK):
            return bindir
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run_as() -> tuple[list[str], tuple[int, int] | None]:
    if os.geteuid() != 0:
        return [], None
    try:
        user = pwd.getpwnam("postgres")
    except KeyError:
        raise PostgresUnavailable(
            "running as root, and PostgreSQL refuses root, but there is no `postgres` "
            "system user to run it as (apt-get install postgresql creates one)"
        ) from None
    runuser = shutil.which("runuser")
    if runuser is None:
        raise PostgresUnavailable("running as root but `runuser` is missing (util-linux)")
    return [runuser, "-u", "postgres", "--"], (user.pw_uid, user.pw_gid)


def start_postgres() -> PostgresServer:
    bindir = find_bindir()
    if bindir is None:
        raise PostgresUnavailable(
            "no PostgreSQL server binaries (initdb, pg_ctl) in /usr/lib/postgresql/*/bin or "
            "on PATH; apt-get install postgresql, or set JOBS_BOT_TEST_POSTGRES_URL"
        )
    run_as, owner = _run_as()
    directory = Path(tempfile.mkdtemp(prefix="jobs-bot-pg-"))
    try:
        if owner is not None:
            os.chown(directory, *owner)
        _check(
            [*run_as, str(bindir / "initdb"), "-D", str(directory / "data")]
            + ["-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"],
            "initdb",
        )
        # A port can be taken between choosing it and binding it; try a few.
        for attempt in range(3):
            port = _free_port()
            options = (
                f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            started = subprocess.run(
                [*run_as, str(bindir / "pg_ctl"), "-D", str(directory / "data")]
                + ["-l", str(directory / "server.log"), "-o", options]
                + ["-w", "-t", str(START_TIMEOUT_SECONDS), "start"],
                capture_output=True,
                text=True,
                check=False,
            )
            if started.returncode == 0:
                url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
                return PostgresServer(url, directory, bindir, run_as)
            if attempt == 2:
                log = (directory / "server.log").read_text(errors="replace")[-2000:]
                raise PostgresUnavailable(f"pg_ctl start failed: {started.stderr}\n{log}")
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    raise AssertionError("unreachable")


def _check(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise PostgresUnavailable(f"{what} failed ({done.returncode}): {done.stderr.strip()}")


def _libpq(url: str) -> str:
    # SQLAlchemy's "postgresql+psycopg://" → libpq's "postgresql://".
    scheme, rest = url.split("://", 1)
    return f"{scheme.split('+')[0]}://{rest}"


@contextmanager
def fresh_schema(url: str) -> Iterator[str]:
    """A new empty schema on the server at `url`, yielded as a URL whose connections use it
    alone (search_path), dropped afterwards. Cheaper than a database per test, and needs only
    CREATE on the database, so it also works on a shared server."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
    separator = "&" if "?" in url else "?"
    try:
        yield f"{url}{separator}options={quote(f'-csearch_path={name}')}"
    finally:
        with psycopg.connect(_libpq(url), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))
