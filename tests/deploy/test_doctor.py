"""`jobs-bot doctor` against a whole local deployment (local Slack, local Databricks, an
embedded warehouse file, a SQLite store): all green, then each thing broken on its own gives
its line and the fix."""

from __future__ import annotations

import re

import pytest

from bot.cli import main
from bot.doctor import SYSTEM_TABLES, Line, failed
from bot.doctor.checks import check_warehouse
from bot.doctor.diagnose import manifest_scopes
from bot.warehouse import sql
from tests.deploy.conftest import ROOT, Deployment


def by_check(lines: list[Line]) -> dict[str, Line]:
    return {line.check: line for line in lines}


def problems(lines: list[Line]) -> list[str]:
    return [line.render() for line in lines if line.status in ("fail", "warn")]


def test_a_healthy_deployment_is_all_green(deployment: Deployment) -> None:
    lines = deployment.diagnose()
    assert problems(lines) == []
    got = by_check(lines)
    for check in ("config", "secrets", "slack token", "slack scopes", "slack app token",
                  "channel #data-alerts", "channel C07FINANCE", "channel #platform-oncall",
                  "warehouse", "jobs api analytics", "store"):  # fmt: skip
        assert got[check].status == "ok", got.get(check)
    for table in SYSTEM_TABLES:
        assert got[f"table {table}"].status == "ok"
    wanted = manifest_scopes(ROOT / "manifest.yml")
    assert wanted and f"all {len(wanted)} scopes" in got["slack scopes"].detail
    assert "schema at version" in got["store"].detail


def test_no_secret_reaches_the_report(deployment: Deployment) -> None:
    deployment.env["SLACK_BOT_TOKEN"] = "xoxb-not-the-real-one"
    text = "\n".join(line.render() for line in deployment.diagnose())
    for value in (*deployment.env.values(), "xoxb-not-the-real-one"):
        assert value not in text


def test_missing_secret(deployment: Deployment) -> None:
    del deployment.env["SLACK_APP_TOKEN"]
    lines = deployment.diagnose()
    assert failed(lines)
    line = next(x for x in lines if x.check == "secret")
    assert line.detail == "SLACK_APP_TOKEN is not set"
    assert "valueFrom" in line.fix and "environment" in line.fix
    assert "slack app token" not in by_check(lines)  # not asked with no token
    assert by_check(lines)["slack token"].status == "ok"  # the rest still checked


def test_a_wrong_bot_token(deployment: Deployment) -> None:
    deployment.env["SLACK_BOT_TOKEN"] = "xoxb-revoked"
    got = by_check(deployment.diagnose())
    assert got["slack token"].detail == "auth.test: invalid_auth"
    assert "reinstall" in got["slack token"].fix
    assert got["channel #data-alerts"].status == "skip"


def test_a_channel_that_does_not_exist(deployment: Deployment) -> None:
    deployment.config["slack"]["channels"]["ghost"] = "#no-such-channel"
    lines = deployment.diagnose()
    assert problems(lines) == [
        "FAIL  channel #no-such-channel: no such channel the bot can see — fix: create it, fix "
        "the name in the config, or (private) /invite @jobs-bot"
    ]


def test_an_archived_channel_and_a_private_one_the_bot_is_not_in(deployment: Deployment) -> None:
    deployment.config["slack"]["channels"].update(old="#old-alerts", hidden="#finance-private")
    got = by_check(deployment.diagnose())
    assert got["channel #old-alerts"].detail == "#old-alerts is archived"
    assert got["channel #finance-private"].status == "fail"  # invisible to the bot
    assert "/invite @jobs-bot" in got["channel #finance-private"].fix


def test_a_public_channel_the_bot_is_not_in_is_fine_it_joins(deployment: Deployment) -> None:
    deployment.config["slack"]["channels"]["random"] = "#random"
    line = by_check(deployment.diagnose())["channel #random"]
    assert line.status == "ok" and "joins on first post" in line.detail


def test_a_missing_scope(deployment: Deployment) -> None:
    bot = deployment.slack.workspace.bot
    bot.scopes = tuple(s for s in bot.scopes if s not in ("usergroups:read", "users:read.email"))
    line = by_check(deployment.diagnose())["slack scopes"]
    assert line.status == "fail"
    assert line.detail == "missing usergroups:read, users:read.email"
    assert "reinstall" in line.fix


def test_a_workspace_that_is_down(deployment: Deployment) -> None:
    deployment.databricks.take_down(deployment.workspace_id)
    lines = deployment.diagnose()
    (line,) = [x for x in lines if x.status == "fail"]
    assert line.check == "jobs api analytics"
    assert "analytics" in line.detail
    assert "host" in line.fix
    assert by_check(lines)["warehouse"].status == "ok"  # the rest still checked


def test_a_workspace_that_refuses_the_token(deployment: Deployment) -> None:
    deployment.env["DATABRICKS_TOKEN"] = "dapi-wrong"
    line = by_check(deployment.diagnose())["jobs api analytics"]
    assert line.status == "fail"
    assert "principal" in line.fix


def test_a_missing_system_table(deployment: Deployment) -> None:
    import duckdb

    con = duckdb.connect(str(deployment.warehouse_path))
    con.execute("DROP TABLE billing.list_prices")
    con.close()
    lines = deployment.diagnose()
    (line,) = [x for x in lines if x.status == "fail"]
    assert line.check == "table system.billing.list_prices"
    assert line.detail.startswith("not found")
    assert "enables the system.billing schema" in line.fix
    assert "GRANT USE SCHEMA, SELECT ON SCHEMA system.billing" in line.fix


class _Refusing:
    """A warehouse that says what Databricks says to a principal without the grant."""

    def __init__(self, refused: set[str], error: str) -> None:
        self.refused, self.error = refused, error

    def run(self, name: str, params: object) -> list[dict[str, object]]:
        if name in self.refused:
            raise RuntimeError(self.error)
        return []

    def close(self) -> None:
        pass


def test_a_missing_permission_names_the_grant() -> None:
    wh = _Refusing({"probe_billing_usage"}, "[INSUFFICIENT_PERMISSIONS] Insufficient privileges: "
                   "User does not have USE SCHEMA on Schema 'system.billing'.")  # fmt: skip
    lines = check_warehouse(wh, principal="1234-abcd")
    (line,) = [x for x in lines if x.status == "fail"]
    assert line.render() == (
        "FAIL  table system.billing.usage: permission denied — fix: GRANT USE CATALOG ON "
        "CATALOG system TO `1234-abcd`; GRANT USE SCHEMA, SELECT ON SCHEMA system.billing TO "
        "`1234-abcd`"
    )


def test_an_unreachable_warehouse_is_one_line_not_eight() -> None:
    wh = _Refusing({f"probe_{t.split('.', 1)[1].replace('.', '_')}" for t in SYSTEM_TABLES},
                   "Error during request to server: Connection refused")  # fmt: skip
    (line,) = check_warehouse(wh, principal="sp")
    assert line.check == "warehouse" and line.status == "fail"
    assert "Connection refused" in line.detail and "CAN_USE" in line.fix


def test_a_missing_warehouse_file_is_not_created(deployment: Deployment) -> None:
    deployment.config["warehouse"]["embedded"]["path"] = str(deployment.tmp / "nope.duckdb")
    line = by_check(deployment.diagnose())["warehouse"]
    assert line.status == "fail" and "jobs-bot seed" in line.fix
    assert not (deployment.tmp / "nope.duckdb").exists()


def test_a_store_not_migrated_yet_is_a_warning(deployment: Deployment) -> None:
    deployment.config["state"]["url"] = f"sqlite:///{deployment.tmp / 'fresh.db'}"
    lines = deployment.diagnose()
    assert not failed(lines)
    line = by_check(lines)["store"]
    assert line.status == "warn" and "jobs-bot run" in line.fix
    assert not (deployment.tmp / "fresh.db").exists()


def test_an_unreachable_postgres_store(deployment: Deployment) -> None:
    deployment.env["JOBS_BOT_STATE_URL"] = "postgresql://bot:s3cret@127.0.0.1:1/jobsbot"
    line = by_check(deployment.diagnose())["store"]
    assert line.status == "fail" and "JOBS_BOT_STATE_URL" in line.fix
    assert "s3cret" not in line.render() and "bot:***@" in line.detail


def test_as_a_databricks_app_with_the_runtimes_service_principal(deployment: Deployment) -> None:
    # What the Apps runtime injects instead of a token: the app principal's OAuth client.
    client_id, secret = deployment.databricks.oauth(deployment.workspace_id)
    del deployment.env["DATABRICKS_TOKEN"]
    deployment.env.update(
        DATABRICKS_CLIENT_ID=client_id,
        DATABRICKS_CLIENT_SECRET=secret,
        DATABRICKS_APP_NAME="jobs-bot",
        DATABRICKS_APP_PORT="8000",
    )
    lines = deployment.diagnose()
    assert problems(lines) == [
        "WARN  databricks app: nothing will listen on DATABRICKS_APP_PORT 8000 — fix: set "
        "monitoring.health_port: 8000 in the config"
    ]
    assert "OAuth service principal" in by_check(lines)["secrets"].detail
    assert by_check(lines)["jobs api analytics"].status == "ok"
    deployment.config["monitoring"] = {"health_port": 8000}
    assert problems(deployment.diagnose()) == []


def test_a_broken_config_stops_at_the_config(deployment: Deployment) -> None:
    deployment.config["slack"]["mode"] = "carrier-pigeon"
    lines = deployment.diagnose()
    assert [x.check for x in lines] == ["config"]
    assert "carrier-pigeon" in lines[0].detail


def test_the_command_prints_one_line_per_check_and_exits_non_zero_on_failure(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("DATABRICKS_HOST", "DATABRICKS_CLIENT_ID", "DATABRICKS_CLIENT_SECRET",
                 "DATABRICKS_CONFIG_PROFILE", "JOBS_BOT_STATE_URL", "DATABRICKS_APP_NAME"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    for name, value in deployment.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(ROOT)  # where manifest.yml is found by default
    path = deployment.write()
    assert main(["doctor", "--config", path]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "all checks passed"
    assert all(re.match(r"^(ok|WARN|FAIL|skip) +\S", line) for line in out[:-1])
    monkeypatch.delenv("SLACK_BOT_TOKEN")
    assert main(["doctor", "--config", path]) == 1
    out = capsys.readouterr().out
    assert "FAIL  secret: SLACK_BOT_TOKEN is not set" in out
    assert out.rstrip().endswith("check(s) failed")


def test_the_probes_cover_every_system_table_the_queries_read() -> None:
    read: set[str] = set()
    # The raw files, not sql.load: this is about table names, not headers.
    for path in sql.queries_dir().glob("*.sql"):
        if not path.stem.startswith("probe_"):
            text = path.read_text(encoding="utf-8")
            read |= {m.lower() for m in re.findall(r"\bsystem\.\w+\.\w+", text)}
    assert read == set(SYSTEM_TABLES)
