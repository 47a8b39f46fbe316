"""The production warehouse: a Databricks SQL warehouse through databricks-sql-connector.

The query files run unchanged here (they are Databricks SQL). Params are bound natively
(server side, `:name` markers), never formatted into the text. Auth follows Databricks unified
auth from the environment: an OAuth service principal (DATABRICKS_CLIENT_ID/_SECRET) when set,
else a personal access token (DATABRICKS_TOKEN). Secrets are read here and never logged.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from bot.errors import UserError
from bot.jobs_api.oauth import service_principal
from bot.warehouse import sql

QUERY_TAGS = {"app": "jobs-bot"}


class DatabricksWarehouse:
    """One lazily opened connection, shared under a lock; reopened after a failure."""

    def __init__(
        self,
        *,
        server_hostname: str,
        http_path: str,
        access_token: str | None = None,
        credentials_provider: Callable[[], Any] | None = None,
    ) -> None:
        if (access_token is None) == (credentials_provider is None):
            raise ValueError("give exactly one of access_token or credentials_provider")
        self.server_hostname = server_hostname
        self.http_path = http_path
        self.auth = "oauth-m2m" if credentials_provider else "pat"
        self._access_token = access_token
        self._credentials_provider = credentials_provider
        self._conn: Any = None
        self._lock = threading.Lock()

    @classmethod
    def from_env(
        cls,
        *,
        server_hostname: str | None = None,
        http_path: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> DatabricksWarehouse:
        env = os.environ if env is None else env
        host = (server_hostname or env.get("DATABRICKS_HOST") or "").strip()
        # The connector wants a bare host name; unified-auth config usually has https://.
        host = host.removeprefix("https://").removeprefix("http://").rstrip("/")
        if not host:
            raise UserError("set DATABRICKS_HOST (or warehouse.server_hostname in the config)")
        path = http_path or env.get("DATABRICKS_HTTP_PATH")
        if not path and env.get("DATABRICKS_WAREHOUSE_ID"):
            path = f"/sql/1.0/warehouses/{env['DATABRICKS_WAREHOUSE_ID']}"
        if not path:
            raise UserError(
                "set warehouse.http_path in the config, or DATABRICKS_HTTP_PATH / "
                "DATABRICKS_WAREHOUSE_ID in the environment"
            )
        client_id, secret = env.get("DATABRICKS_CLIENT_ID"), env.get("DATABRICKS_CLIENT_SECRET")
        if client_id and secret:
            return cls(
                server_hostname=host,
                http_path=path,
                credentials_provider=service_principal(host, client_id, secret),
            )
        token = env.get("DATABRICKS_TOKEN")
        if token:
            return cls(server_hostname=host, http_path=path, access_token=token)
        raise UserError(
            "no Databricks credentials: set DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET "
            "(OAuth service principal) or DATABRICKS_TOKEN"
        )

    def _connect(self) -> Any:
        from databricks import sql as dbsql

        kwargs: dict[str, Any] = {
            "server_hostname": self.server_hostname,
            "http_path": self.http_path,
            "query_tags": QUERY_TAGS,
            # Results come back as naive datetimes in the session zone; pin it to UTC.
            "session_configuration": {"TIMEZONE": "UTC"},
        }
        if self._credentials_provider is not None:
            kwargs["credentials_provider"] = self._credentials_provider
        else:
            kwargs["access_token"] = self._access_token
        return dbsql.connect(**kwargs)

    def run(self, name: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        query = sql.load(name)
        values = sql.check_params(query, params)
        with self._lock:
            if self._conn is None:
                self._conn = self._connect()
            try:
                with self._conn.cursor() as cur:
                    cur.execute(query.text, values)
                    names = [d[0] for d in cur.description]
                    rows = cur.fetchall()
            except Exception:
                # A dropped session poisons the connection; start afresh next time.
                self._close_locked()
                raise
        return [dict(zip(names, map(_utc, row), strict=True)) for row in rows]

    def close(self) -> None:
        with self._lock:
            self._close_locked()

    def _close_locked(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None


def _utc(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
