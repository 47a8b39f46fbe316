"""OAuth M2M through the SDK's own flow against the local Databricks: access tokens expire
after `expires_in` (3600 s) by the world's clock and the SDK fetches a new one, so the bot keeps
working; a host that does not serve /.well-known/databricks-config still works for the Jobs API
client and for the SQL connector's credentials provider (both give the discovery URL)."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

import pytest
import requests
from databricks.sdk import oauth as sdk_oauth
from databricks.sdk.core import Config

from bot.clock import FixedClock
from bot.config.secrets import Secrets
from bot.jobs_api.oauth import service_principal
from sandbox.databricks import LocalDatabricks, World
from sandbox.databricks.auth import TOKEN_LIFETIME
from tests.support.jobs_api import START, make_api


def _m2m(server: LocalDatabricks, workspace_id: int) -> Secrets:
    client_id, secret = server.oauth(workspace_id)
    return Secrets(databricks_client_id=client_id, databricks_client_secret=secret)


def _runs_list(server: LocalDatabricks, workspace_id: int, token: str) -> int:
    url = f"{server.url(workspace_id)}/api/2.2/jobs/runs/list"
    answer = requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=5)
    return answer.status_code


@pytest.fixture
def sdk_time(monkeypatch: pytest.MonkeyPatch, clock: FixedClock) -> None:
    """The SDK dates its tokens with datetime.now(); here that follows the world's clock (the
    injected clock of these tests), so an hour passes without waiting for it."""

    class WorldTime(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> WorldTime:  # type: ignore[override]
            at = clock.now()
            return at.astimezone(tz) if tz is not None else at.replace(tzinfo=None)  # type: ignore[return-value]

    monkeypatch.setattr(sdk_oauth, "datetime", WorldTime)


def test_tokens_expire_and_the_sdk_fetches_a_new_one(
    world: World, clock: FixedClock, server: LocalDatabricks, sdk_time: None
) -> None:
    ws = world.add_workspace("analytics")
    w_id, w = ws.workspace_id, str(ws.workspace_id)
    api = make_api(server, w_id, secrets=_m2m(server, w_id))
    assert api.list_runs(w) == []
    with world.lock:
        (first,) = ws.token_expiry
        expiry = ws.token_expiry[first]
    assert expiry == world.now_ms() + TOKEN_LIFETIME * 1000 and TOKEN_LIFETIME == 3600
    clock.set(START + timedelta(minutes=30))
    assert _runs_list(server, w_id, first) == 200  # still good within its hour
    assert api.list_runs(w) == []
    assert server.calls(w_id)["oidc/v1/token"] == 1  # the SDK kept it, too
    clock.set(START + timedelta(hours=1))
    assert _runs_list(server, w_id, first) == 403  # expired: "Invalid access token."
    # The bot keeps working past the expiry: the SDK asked for a new token by itself.
    world.add_job(w_id, "nightly")
    assert api.list_runs(w) == []
    assert len(api.list_active_runs(w, interactive=True)) == 0
    assert server.calls(w_id)["oidc/v1/token"] == 2
    with world.lock:
        (second,) = ws.token_expiry
    assert second != first and _runs_list(server, w_id, second) == 200
    # PATs do not expire.
    clock.set(START + timedelta(days=30))
    assert _runs_list(server, w_id, server.token(w_id)) == 200


def test_m2m_without_host_metadata_for_the_jobs_api_and_the_sql_connector(
    world: World, server: LocalDatabricks
) -> None:
    ws = world.add_workspace("analytics")
    w_id = ws.workspace_id
    server.start()
    server.serve_host_metadata(w_id, False)
    host = server.url(w_id)
    assert requests.get(f"{host}/.well-known/databricks-config", timeout=5).status_code == 404
    client_id, secret = server.oauth(w_id)
    # The trap: the SDK alone cannot find the token endpoint on such a host.
    with pytest.raises(ValueError, match="Invalid URL 'None'"):
        Config(host=host, client_id=client_id, client_secret=secret, auth_type="oauth-m2m")
    # The Jobs API client of the bot.
    api = make_api(server, w_id, secrets=_m2m(server, w_id))
    assert api.list_runs(str(w_id)) == []
    # The SQL connector's credentials provider (what it calls when it connects).
    headers = service_principal(host, client_id, secret)()()
    token = headers["Authorization"].removeprefix("Bearer ")
    assert headers["Authorization"].startswith("Bearer ") and token
    assert _runs_list(server, w_id, token) == 200
    assert server.calls(w_id)["oidc/v1/token"] == 2  # one token each
