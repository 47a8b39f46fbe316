"""Config: every problem named by its YAML path, secrets only from the environment, and the
lookups the bot relies on (routing, SLAs, owners, permissions)."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import (
    ConfigError,
    check_file,
    cron_trigger,
    load_config,
    parse_days,
    parse_duration,
)
from sandbox import DEMO_CONFIG

ROOT = Path(__file__).resolve().parent.parent

BASE = """\
timezone: Europe/Amsterdam
warehouse:
  embedded: {path: ":memory:"}
workspaces:
  - {id: "111", name: prod, host: "https://adb-111.1.azuredatabricks.net"}
  - {id: "222", name: analytics, host: "https://adb-222.2.azuredatabricks.net"}
slack:
  default_channel: "#data-alerts"
  channels:
    finance: "#finance-data"
    ml: C0ML123456
"""


def write(tmp_path: Path, text: str, name: str = "jobs-bot.yml") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return str(path)


def problems(tmp_path: Path, extra: str = "", base: str = BASE) -> list[str]:
    return check_file(write(tmp_path, base + textwrap.dedent(extra)))


def only(lines: list[str]) -> str:
    assert len(lines) == 1, lines
    return lines[0]


# --- files that must validate clean --------------------------------------------------------


def test_example_file_validates_clean_and_loads() -> None:
    path = str(ROOT / "jobs-bot.example.yml")
    assert check_file(path) == []
    config = load_config(path, env={})
    assert config.warehouse.databricks is not None
    assert config.warehouse.databricks.http_path.startswith("/sql/1.0/warehouses/")
    assert config.tz.key == "Europe/Amsterdam"


def test_example_file_mentions_every_key_of_the_schema() -> None:
    from pydantic import BaseModel

    from bot.config import Config

    text = (ROOT / "jobs-bot.example.yml").read_text(encoding="utf-8")
    seen: set[type] = set()

    def keys(model: type[BaseModel]) -> set[str]:
        out: set[str] = set()
        if model in seen:
            return out
        seen.add(model)
        for name, field in model.model_fields.items():
            if name == "secrets":
                continue
            out.add(name)
            for sub in _models_in(field.annotation):
                out |= keys(sub)
        return out

    missing = sorted(k for k in keys(Config) if f"{k}:" not in text and f"{k} " not in text)
    assert missing == []


def _models_in(annotation: object) -> list[type]:
    import typing

    from pydantic import BaseModel

    found: list[type] = []
    stack = [annotation]
    while stack:
        a = stack.pop()
        if isinstance(a, type) and issubclass(a, BaseModel):
            found.append(a)
        stack.extend(typing.get_args(a))
    return found


def test_demo_config_covers_the_demo_story() -> None:
    assert check_file(DEMO_CONFIG) == []
    config = load_config(DEMO_CONFIG, env={})
    assert config.warehouse.embedded is not None
    assert config.slack.default_channel == "#data-alerts"
    assert config.route_channel("weekly_finance_rollup", "1", "9", {"team": "finance-data"}) == (
        "#finance-data"
    )
    assert config.route_channel("ml_feature_refresh", "1", "9", {}) == "#ml-platform"
    assert config.route_channel("something_else", "1", "9", {"team": "web"}) == "#data-alerts"
    (sales,) = config.slas_for("nightly_sales", "1", "5")
    assert (sales.kind, sales.deadline, sales.weekdays) == (
        "deadline",
        time(6),
        frozenset(range(5)),
    )
    assert sales.tz(config.timezone).key == "UTC"
    (etl,) = config.slas_for("nightly_etl", "2", "5")
    assert etl.kind == "max_duration" and etl.max_minutes == 90
    (ingest,) = config.slas_for("hourly_events_ingest", "3", "5")
    assert ingest.kind == "freshness" and ingest.every_hours == 2
    group = config.permissions.rerun.user_groups[0]
    assert config.may_rerun("U0SOMEONE", [group])
    assert not config.may_rerun("U0SOMEONE", [])
    assert config.may_acknowledge("U0SOMEONE")


# --- one test per kind of problem ----------------------------------------------------------


def test_deadline_not_hhmm(tmp_path: Path) -> None:
    lines = problems(
        tmp_path,
        """\
        slas:
          - job: {name: a}
            max_duration: 1h
          - job: {name: b}
            freshness: 6h
          - job: {name: nightly_sales}
            deadline: 7am
        """,
    )
    assert only(lines) == 'slas[2].deadline: "7am" is not HH:MM (line 18)'


def test_a_baseline_the_queries_would_ignore_is_refused(tmp_path: Path) -> None:
    # The anomaly queries read 14 days; a 30 accepted silently would change nothing.
    lines = problems(
        tmp_path,
        """\
        cost:
          baseline_days: 30
        """,
    )
    assert "cost.baseline_days" in only(lines) and "fixed 14-day baseline" in only(lines)


def test_routing_channel_missing(tmp_path: Path) -> None:
    lines = problems(tmp_path, "routing:\n  - tag: {team: finance}\n")
    assert only(lines).startswith("routing[0].channel: missing")


def test_unknown_time_zone(tmp_path: Path) -> None:
    lines = problems(tmp_path, base=BASE.replace("Europe/Amsterdam", "Mars/Base"))
    assert only(lines) == 'timezone: "Mars/Base" is not a known time zone (line 1)'


@pytest.mark.parametrize(
    "warehouse",
    [
        "warehouse: {cache_ttl_seconds: 60}\n",
        "warehouse:\n  embedded: {path: a.duckdb}\n"
        "  databricks: {server_hostname: h.net, http_path: /sql/1.0/warehouses/abc}\n",
    ],
)
def test_warehouse_needs_exactly_one_kind(tmp_path: Path, warehouse: str) -> None:
    text = BASE.replace('warehouse:\n  embedded: {path: ":memory:"}\n', warehouse)
    assert only(problems(tmp_path, base=text)).startswith(
        "warehouse: give either embedded or databricks"
    )


def _databricks(server_hostname: str, http_path: str) -> str:
    return BASE.replace(
        'embedded: {path: ":memory:"}',
        f"databricks: {{server_hostname: '{server_hostname}', http_path: '{http_path}'}}",
    )


def test_databricks_warehouse_http_path_must_be_a_warehouse_path(tmp_path: Path) -> None:
    text = _databricks("adb-1.2.azuredatabricks.net", "/sql/warehouses/abc")
    assert only(problems(tmp_path, base=text)) == (
        'warehouse.databricks.http_path: "/sql/warehouses/abc" is not like '
        "/sql/1.0/warehouses/<id> (line 3)"
    )
    good = write(tmp_path, text.replace("/sql/warehouses/abc", "/sql/1.0/warehouses/abc"), "ok.yml")
    config = load_config(good, env={})
    assert config.warehouse.databricks is not None
    assert config.warehouse.databricks.server_hostname == "adb-1.2.azuredatabricks.net"
    assert config.warehouse.databricks.http_path == "/sql/1.0/warehouses/abc"


@pytest.mark.parametrize(
    ("pasted", "message"),
    [
        (
            "https://adb-1.2.azuredatabricks.net/",
            '"https://adb-1.2.azuredatabricks.net/" is a URL, not a host name: drop "https://" '
            "and write adb-1.2.azuredatabricks.net",
        ),
        (
            "https://adb-1.2.azuredatabricks.net/sql/1.0/warehouses/abc",
            '"https://adb-1.2.azuredatabricks.net/sql/1.0/warehouses/abc" is a URL, not a host '
            'name: drop "https://" and the path and write adb-1.2.azuredatabricks.net',
        ),
        (
            "http://adb-1.2.azuredatabricks.net",
            '"http://adb-1.2.azuredatabricks.net" is a URL, not a host name: drop "http://" and '
            "write adb-1.2.azuredatabricks.net",
        ),
    ],
)
def test_server_hostname_given_as_a_url_says_to_drop_the_scheme(
    tmp_path: Path, pasted: str, message: str
) -> None:
    text = _databricks(pasted, "/sql/1.0/warehouses/abc")
    assert only(problems(tmp_path, base=text)) == (
        f"warehouse.databricks.server_hostname: {message} (line 3)"
    )


def test_http_path_without_a_leading_slash_says_so(tmp_path: Path) -> None:
    text = _databricks("adb-1.2.azuredatabricks.net", "sql/1.0/warehouses/abc")
    assert only(problems(tmp_path, base=text)) == (
        'warehouse.databricks.http_path: "sql/1.0/warehouses/abc" needs a leading "/": '
        'write "/sql/1.0/warehouses/abc" (line 3)'
    )


def test_misspelt_key_is_unknown_with_a_suggestion(tmp_path: Path) -> None:
    lines = problems(tmp_path, "cost:\n  anomaly_sensitivty: 3\n")
    assert only(lines) == (
        "cost.anomaly_sensitivty: unknown key (did you mean anomaly_sensitivity?) (line 13)"
    )


def test_bad_cron_expressions(tmp_path: Path) -> None:
    lines = problems(tmp_path, 'schedules:\n  digest: "0 9 * *"\n  cost_scan: "61 * * * *"\n')
    assert len(lines) == 2
    assert lines[0].startswith('schedules.digest: "0 9 * *" has 4 fields; cron needs 5')
    assert lines[1].startswith('schedules.cost_scan: "61 * * * *" is not a valid cron')
    assert "59" in lines[1]


def test_duration_needs_a_unit(tmp_path: Path) -> None:
    lines = problems(tmp_path, "slas:\n  - job: {name: x}\n    max_duration: 90\n")
    assert only(lines).startswith("slas[0].max_duration: 90 needs a unit: 90m, 90h or 90d")


def test_regex_pattern_must_compile(tmp_path: Path) -> None:
    lines = problems(tmp_path, 'routing:\n  - name_pattern: "re:(open"\n    channel: finance\n')
    assert only(lines).startswith(
        'routing[0].name_pattern: "re:(open" is not a valid regular expression'
    )


def test_unquoted_hash_channel_is_explained(tmp_path: Path) -> None:
    text = BASE.replace('default_channel: "#data-alerts"', "default_channel: #data-alerts")
    line = only(problems(tmp_path, base=text))
    assert line.startswith("slack.default_channel: is empty")
    assert 'write it as "#data-alerts"' in line


def test_routing_channel_must_be_a_known_key(tmp_path: Path) -> None:
    lines = problems(tmp_path, "routing:\n  - tag: {team: fin}\n    channel: finanse\n")
    line = only(lines)
    assert line.startswith('routing[0].channel: "finanse" is not a key of slack.channels')
    assert 'did you mean "finance"?' in line


def test_references_to_unlisted_workspaces(tmp_path: Path) -> None:
    lines = problems(
        tmp_path,
        """\
        routing:
          - workspace: staging
            channel: ml
        slas:
          - job: {workspace_id: "999", job_id: "5"}
            freshness: 6h
        """,
    )
    assert lines[0].startswith('routing[0].workspace: "staging" is not the id or name')
    assert lines[1].startswith('slas[0].job.workspace_id: "999" is not a workspace')
    assert len(lines) == 2


def test_sla_needs_exactly_one_kind_and_job_id_needs_workspace(tmp_path: Path) -> None:
    lines = problems(
        tmp_path,
        """\
        slas:
          - job: {name: a}
            deadline: "07:00"
            freshness: 6h
          - job: {job_id: "5"}
            freshness: 6h
        """,
    )
    assert lines[0].startswith("slas[0]: give exactly one of deadline, max_duration, freshness")
    assert lines[1].startswith("slas[1].job: job_id needs workspace_id too")


def test_two_sla_rules_of_one_kind_for_one_job_name_the_first(tmp_path: Path) -> None:
    lines = problems(
        tmp_path,
        """\
        slas:
          - job: {name: nightly_sales}
            deadline: "07:00"
            days: Mon-Fri
          - job: {name: nightly_sales}
            max_duration: 90m
          - job: {name: nightly_sales, workspace_id: "111"}
            deadline: "08:00"
          - job: {workspace_id: "222", job_id: "7"}
            freshness: 6h
          - job: {workspace_id: 222, job_id: 7}
            freshness: 2h
        """,
    )
    assert lines == [
        'slas[2]: a second deadline rule for job "nightly_sales" in workspace 111 on Mon-Fri '
        "(the first is slas[0], line 13); keep one, or give them days that do not overlap "
        "(line 18)",
        "slas[4]: a second freshness rule for job 7 in workspace 222 (the first is slas[3], "
        "line 20); keep one (line 22)",
    ]


def test_sla_rules_that_can_hold_together_are_fine(tmp_path: Path) -> None:
    lines = problems(
        tmp_path,
        """\
        slas:
          - job: {name: nightly_sales}
            deadline: "07:00"
            days: Mon-Fri
          - job: {name: nightly_sales}
            deadline: "10:00"
            days: Sat-Sun
          - job: {name: nightly_sales}
            max_duration: 90m
          - job: {name: nightly_sales, workspace_id: "111"}
            freshness: 1d
          - job: {name: nightly_sales, workspace_id: "222"}
            freshness: 1d
          - job: {name: other_job}
            max_duration: 90m
        """,
    )
    assert lines == []


def test_slack_ids_are_checked(tmp_path: Path) -> None:
    lines = problems(
        tmp_path,
        """\
        permissions:
          rerun: {mode: config, users: [bob], user_groups: [S0PLAT]}
          acknowledge: {mode: databricks}
        owners:
          ana@example.com: ana
        """,
    )
    assert lines == [
        'permissions.rerun.users[0]: "bob" is not a Slack user id (U… or W…) (line 13)',
        "permissions.acknowledge: mode databricks only applies to rerun "
        "(use everyone or config) (line 14)",
        'owners["ana@example.com"]: "ana" is not a Slack user id (U… or W…) (line 16)',
    ]


def test_key_given_twice(tmp_path: Path) -> None:
    lines = problems(tmp_path, "timezone: UTC\n")
    assert only(lines) == "timezone: given twice (first on line 1) (line 12)"


def test_state_url_with_password_belongs_in_env(tmp_path: Path) -> None:
    lines = problems(tmp_path, "state:\n  url: postgresql://bot:hunter2@db/jobs\n")
    assert only(lines).startswith("state.url: holds a password")
    assert "JOBS_BOT_STATE_URL" in lines[0]
    path = write(tmp_path, BASE + "state:\n  url: postgresql://db/jobs\n", "ok.yml")
    secret_url = "postgresql://bot:hunter2@db/jobs"
    config = load_config(path, env={"JOBS_BOT_STATE_URL": secret_url})
    assert config.state_url == secret_url
    assert "hunter2" not in repr(config)


def test_yaml_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "slack:\n  mode: [socket\n")
    line = only(check_file(path))
    assert line.startswith(f"{path}: line 3, column 1: YAML syntax error")
    assert "line 2, column 9" in line


def test_empty_missing_and_non_mapping_files(tmp_path: Path) -> None:
    empty = write(tmp_path, "# nothing here\n", "empty.yml")
    assert only(check_file(empty)) == (
        f"{empty}: the file is empty; see jobs-bot.example.yml for every key"
    )
    missing = str(tmp_path / "nope.yml")
    assert only(check_file(missing)).startswith(f"{missing}: no such file")
    listing = write(tmp_path, "- a\n- b\n", "list.yml")
    assert "top level must be a mapping" in only(check_file(listing))


def test_all_problems_are_listed_in_file_order(tmp_path: Path) -> None:
    text = """\
    timezone: Mars/Base
    warehouse: {}
    slack:
      mode: sockett
      default_channel: "#data-alerts"
    routing:
      - tag: {team: x}
    slas:
      - job: {name: a}
        deadline: "25:00"
    schedules:
      failure_poll_seconds: 1
    """
    lines = check_file(write(tmp_path, text))
    assert [line.split(":")[0] for line in lines] == [
        "timezone",
        "warehouse",
        "slack.mode",
        "routing[0].channel",
        "slas[0].deadline",
        "schedules.failure_poll_seconds",
    ]
    assert lines[-1] == "schedules.failure_poll_seconds: 1 is too small (at least 5) (line 12)"


def test_load_config_raises_with_every_problem(tmp_path: Path) -> None:
    path = write(tmp_path, "timezone: Nowhere\nslack: {}\n")
    with pytest.raises(ConfigError) as err:
        load_config(path, env={})
    message = str(err.value)
    assert message.startswith(f"{path}: 3 problems")
    for where in ("timezone:", "warehouse: missing", "slack.default_channel: missing"):
        assert where in message


# --- the command line ----------------------------------------------------------------------


def test_cli_check_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = write(tmp_path, BASE + 'slas:\n  - job: {name: x}\n    deadline: "7am"\n', "bad.yml")
    assert main(["check-config", bad]) == 1
    out = capsys.readouterr().out
    assert out.strip() == 'slas[0].deadline: "7am" is not HH:MM (line 14)'

    good = write(tmp_path, BASE, "good.yml")
    assert main(["check-config", good]) == 0
    assert capsys.readouterr().out.strip() == f"{good}: OK"


def test_cli_check_config_reports_the_issue_12_mistakes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        _databricks("https://adb-1.2.azuredatabricks.net", "sql/1.0/warehouses/abc").replace(
            "slack:\n", "slack:\n  token: xoxb-1-2-abc\n"
        )
        + 'slas:\n  - job: {name: x}\n    deadline: "07:00"\n'
        + '  - job: {name: x}\n    deadline: "08:00"\n'
    )
    assert main(["check-config", write(tmp_path, text, "bad.yml")]) == 1
    out = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in out] == [
        "warehouse.databricks.http_path",
        "warehouse.databricks.server_hostname",
        "slack.token",
        "slas[1]",
    ]
    assert "(SLACK_BOT_TOKEN)" in out[2] and "DATABRICKS_TOKEN" not in out[2]
    assert "the first is slas[0], line 14" in out[3]


# --- secrets -------------------------------------------------------------------------------

SECRET_ENV = {
    "SLACK_BOT_TOKEN": "xoxb-111-222-abcdefsecret",
    "SLACK_APP_TOKEN": "xapp-1-A111-333-appsecret",
    "DATABRICKS_TOKEN": "dapi0123456789abcdef0123456789abcdef",
}


def test_secrets_come_from_env_and_never_show(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, BASE), env=SECRET_ENV)
    assert config.secrets.slack_bot_token is not None
    assert config.secrets.slack_bot_token.get_secret_value() == SECRET_ENV["SLACK_BOT_TOKEN"]
    shown = repr(config) + str(config) + repr(config.secrets) + config.model_dump_json()
    for value in SECRET_ENV.values():
        assert value not in shown


def test_secrets_read_only_from_the_given_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-from-process-env")
    path = write(tmp_path, BASE)
    assert load_config(path, env={}).secrets.slack_bot_token is None
    token = load_config(path).secrets.slack_bot_token
    assert token is not None and token.get_secret_value() == "xoxb-from-process-env"


def test_missing_secrets_per_run_mode(tmp_path: Path) -> None:
    path = write(tmp_path, BASE)
    bare = load_config(path, env={"SLACK_BOT_TOKEN": "xoxb-1"})
    assert bare.missing_secrets() == [
        "SLACK_APP_TOKEN",
        "DATABRICKS_TOKEN (or DATABRICKS_CLIENT_ID + DATABRICKS_CLIENT_SECRET)",
    ]
    assert bare.secrets.missing_for("http", databricks=False) == ["SLACK_SIGNING_SECRET"]
    assert bare.secrets.missing_for("demo") == []
    oauth = load_config(
        path,
        env={
            "SLACK_BOT_TOKEN": "xoxb-1",
            "SLACK_APP_TOKEN": "xapp-1",
            "DATABRICKS_CLIENT_ID": "sp-id",
        },
    )
    assert oauth.missing_secrets() == ["DATABRICKS_CLIENT_SECRET"]
    full = load_config(path, env={**SECRET_ENV})
    assert full.missing_secrets() == []


@pytest.mark.parametrize(
    ("where", "yaml", "variable"),
    [
        ("slack.token", "slack:\n  token: not-here\n", "SLACK_BOT_TOKEN"),
        ("slack.bot_token", "slack:\n  bot_token: not-here\n", "SLACK_BOT_TOKEN"),
        ("slack.app_token", "slack:\n  app_token: not-here\n", "SLACK_APP_TOKEN"),
        ("slack.token", "slack:\n  token: xapp-1-A111-333-x\n", "SLACK_APP_TOKEN"),
        ("slack.signing_secret", "slack:\n  signing_secret: abc\n", "SLACK_SIGNING_SECRET"),
        ("warehouse.token", "warehouse:\n  token: abc\n", "DATABRICKS_TOKEN"),
        (
            "warehouse.client_secret",
            "warehouse:\n  client_secret: abc\n",
            "DATABRICKS_CLIENT_SECRET",
        ),  # fmt: skip
        ("state.password", "state:\n  password: abc\n", "JOBS_BOT_STATE_URL"),
        (
            "workspaces[0].token",
            "workspaces:\n  - token: dapi0123456789abcdef0123\n",
            "DATABRICKS_TOKEN, or a variable named by this workspace's pat_env",
        ),  # fmt: skip
    ],
)
def test_a_pasted_secret_names_the_variable_it_belongs_in(
    tmp_path: Path, where: str, yaml: str, variable: str
) -> None:
    # A file of that section alone: its other problems (missing sections) are listed too.
    lines = [line for line in check_file(write(tmp_path, yaml)) if "looks like a secret" in line]
    assert lines[0].startswith(f"{where}: looks like a secret: put it in the environment")
    assert f"({variable}), not the file" in lines[0]
    assert "DATABRICKS_TOKEN" not in lines[0] or variable.startswith("DATABRICKS_TOKEN")


def test_secret_in_the_file_is_flagged(tmp_path: Path) -> None:
    text = BASE.replace(
        'default_channel: "#data-alerts"',
        'default_channel: "#data-alerts"\n  bot_token: xoxb-not-here\n  icon: xapp-1-oops',
    )
    lines = check_file(write(tmp_path, text + "secrets:\n  x: 1\n"))
    assert lines[0].startswith("slack.bot_token: looks like a secret: put it in the environment")
    assert "SLACK_BOT_TOKEN" in lines[0]
    assert lines[1].startswith("slack.icon: looks like a secret")
    assert lines[2].startswith("secrets: looks like a secret")
    assert len(lines) == 3  # no extra "unknown key" line for the same keys


# --- lookups -------------------------------------------------------------------------------


def test_routing_picks_the_first_matching_rule(tmp_path: Path) -> None:
    rules = """\
    routing:
      - job: {workspace_id: "222", job_id: "7"}
        channel: "#vip"
      - tag: {team: finance}
        channel: finance
      - name_pattern: "NIGHTLY_*"
        channel: "#nightly"
      - name_pattern: "re:^ml_.*_v[0-9]+$"
        workspace: analytics
        channel: ml
    """
    config = load_config(write(tmp_path, BASE + textwrap.dedent(rules)), env={})
    route = config.route_channel
    assert route("nightly_sales", "111", "7", {"team": "finance"}) == "#finance-data"
    assert route("nightly_sales", "222", "7", {"team": "finance"}) == "#vip"
    assert route("nightly_sales", 111, 8, {"team": "web"}) == "#nightly"
    assert route("ml_scoring_v2", "222", "9", {}) == "C0ML123456"
    assert route("ml_scoring_v2", "111", "9", {}) == "#data-alerts"
    assert route("ml_scoring_v2_old", "222", "9", None) == "#data-alerts"


def test_slas_for_matches_by_name_or_workspace_and_id(tmp_path: Path) -> None:
    rules = """\
    slas:
      - job: {name: nightly_sales}
        deadline: "7:30"
        days: Mon-Fri
      - job: {workspace_id: "111", job_id: "42"}
        freshness: 6h
    """
    config = load_config(write(tmp_path, BASE + textwrap.dedent(rules)), env={})
    (by_name,) = config.slas_for("nightly_sales", "222", "1")
    # Unquoted 7:30 is a base-60 integer in YAML 1.1; it must still read as half past seven.
    assert by_name.deadline == time(7, 30)
    assert by_name.tz(config.timezone).key == "Europe/Amsterdam"
    (by_id,) = config.slas_for("renamed_job", 111, 42)
    assert by_id.freshness == timedelta(hours=6)
    assert config.slas_for("renamed_job", "222", "42") == []


def test_owner_map_ignores_email_case(tmp_path: Path) -> None:
    text = BASE + "owners:\n  Ana.Silva@Example.com: U0ANA\n  etl-sp: W0ETL\n"
    config = load_config(write(tmp_path, text), env={})
    assert config.owner_slack_id("ana.silva@example.com") == "U0ANA"
    assert config.owner_slack_id("etl-sp") == "W0ETL"
    assert config.owner_slack_id("bob@example.com") is None
    assert config.owner_slack_id(None) is None


def test_rerun_permissions(tmp_path: Path) -> None:
    text = BASE + (
        "permissions:\n  rerun: {mode: config, users: [U0ANA], user_groups: [S0PLAT],"
        " emails: [Lead@Example.com]}\n  acknowledge: {mode: config, users: [U0ANA]}\n"
    )
    config = load_config(write(tmp_path, text), env={})
    assert config.may_rerun("U0ANA", [])
    assert config.may_rerun("U0BOB", ["S0OTHER", "S0PLAT"])
    assert config.may_rerun("U0LEAD", [], email="lead@example.com")
    assert not config.may_rerun("U0BOB", ["S0OTHER"], email="bob@example.com")
    assert not config.may_acknowledge("U0BOB")
    assert config.may_mute("U0BOB")
    databricks = load_config(
        write(tmp_path, BASE + "permissions:\n  rerun: {mode: databricks}\n", "db.yml"), env={}
    )
    assert not databricks.may_rerun("U0ANA", ["S0PLAT"])  # the caller asks Databricks


# --- the small languages -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("Mon-Fri", {0, 1, 2, 3, 4}),
        ("weekdays", {0, 1, 2, 3, 4}),
        ("weekends", {5, 6}),
        ("Sat, sun", {5, 6}),
        ("daily", set(range(7))),
        ("Fri-Mon", {4, 5, 6, 0}),
        (["mon", "Wednesday"], {0, 2}),
    ],
)
def test_sla_days(text: object, days: set[int]) -> None:
    assert parse_days(text) == frozenset(days)


@pytest.mark.parametrize("text", ["Mon-Fry", "someday", []])
def test_sla_days_rejects_nonsense(text: object) -> None:
    with pytest.raises(ValueError):
        parse_days(text)


@pytest.mark.parametrize(
    ("text", "minutes"), [("90m", 90), ("6h", 360), ("1d", 1440), ("1h30m", 90), ("45 M", 45)]
)
def test_durations(text: str, minutes: int) -> None:
    assert parse_duration(text) == timedelta(minutes=minutes)


@pytest.mark.parametrize("text", [90, "90", "six hours", "0m", "-5m", True])
def test_durations_reject_nonsense(text: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_cron_weekday_numbers_mean_what_cron_means() -> None:
    # APScheduler 3 counts weekdays from Monday = 0; cron from Sunday = 0.
    start = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)  # a Wednesday
    monday = cron_trigger("0 9 * * 1", "UTC").get_next_fire_time(None, start)
    assert monday is not None and monday.strftime("%a %H:%M") == "Mon 09:00"
    sunday = cron_trigger("0 9 * * 7", "UTC").get_next_fire_time(None, start)
    assert sunday is not None and sunday.strftime("%a") == "Sun"
    weekdays = cron_trigger("0 9 * * 1-5", "Europe/Amsterdam").get_next_fire_time(None, start)
    assert weekdays is not None and weekdays.strftime("%a %H:%M") == "Thu 09:00"


def test_no_config_outside_the_demo_says_how_to_make_one() -> None:
    with pytest.raises(ConfigError) as info:
        load_config(None, env={})
    assert "jobs-bot.example.yml" in str(info.value)
