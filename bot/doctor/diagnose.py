"""`diagnose()`: the doctor's whole run — load the config, build the real adapters from it
(read only), and run every check in order, skipping what a missing prerequisite makes moot."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from bot.config import Config, ConfigError, load_config
from bot.doctor.checks import check_jobs_api, check_secrets, check_store, check_warehouse
from bot.doctor.lines import Line, first_line
from bot.doctor.slack_checks import SlackProbe, check_slack
from bot.warehouse import Warehouse

if TYPE_CHECKING:
    from bot.jobs_api import JobsApiSettings


def manifest_scopes(path: str | Path) -> frozenset[str] | None:
    """The bot scopes manifest.yml asks for, or None when the file is not there."""
    try:
        data: Any = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError:
        return None
    scopes = ((data or {}).get("oauth_config") or {}).get("scopes") or {}
    return frozenset(str(s) for s in scopes.get("bot") or ())


def configured_channels(config: Config) -> list[str]:
    """The default channel, every named channel and every routing target, once each."""
    refs = [config.slack.default_channel, *config.slack.channels.values()]
    refs += [config.channel(rule.channel) for rule in config.routing]
    return list(dict.fromkeys(refs))


def diagnose(
    config_path: str,
    *,
    env: Mapping[str, str],
    manifest: str | Path | None = None,
    jobs_api_settings: JobsApiSettings | None = None,
) -> list[Line]:
    """Every check, in order; later checks are skipped when what they need is missing."""
    try:
        config = load_config(config_path, env=env)
    except ConfigError as e:
        return [Line("fail", "config", p, "see jobs-bot.example.yml") for p in e.problems]
    lines = [Line("ok", "config", f"{config_path} is valid")]
    lines += check_secrets(config, env)
    missing = set(config.missing_secrets())
    if missing & {"SLACK_BOT_TOKEN"}:
        lines.append(Line("skip", "slack", "no SLACK_BOT_TOKEN"))
    else:
        wanted = manifest_scopes(manifest or _find_manifest(config_path))
        socket = config.slack.mode == "socket" and "SLACK_APP_TOKEN" not in missing
        lines += check_slack(
            _slack_probe(config),
            wanted_scopes=wanted,
            channels=configured_channels(config),
            socket_mode=socket,
        )
    principal = env.get("DATABRICKS_CLIENT_ID") or "<the bot's principal>"
    # Without any Databricks sign-in every call below fails the same way: one line said so.
    unsigned = any(name.startswith("DATABRICKS") for name in missing)
    if unsigned and config.warehouse.databricks is not None:
        lines.append(Line("skip", "warehouse", "no Databricks credentials"))
    else:
        lines += _warehouse_lines(config, env, principal)
    watched = [(w.id, w.name) for w in config.workspaces if w.jobs_api]
    if unsigned:
        lines += [
            Line("skip", f"jobs api {name}", "no Databricks credentials") for _, name in watched
        ]
    elif watched:
        from bot.jobs_api import JobsApi, JobsApiSettings

        api = JobsApi(
            config.workspaces,
            config.secrets,
            env=env,
            settings=jobs_api_settings or JobsApiSettings(interactive_seconds=10),
        )
        lines += check_jobs_api(api, watched)
    lines.append(check_store(config.state_url))
    return lines


def _find_manifest(config_path: str) -> Path:
    here = Path("manifest.yml")
    return here if here.exists() else Path(config_path).resolve().parent / "manifest.yml"


def _warehouse_lines(config: Config, env: Mapping[str, str], principal: str) -> list[Line]:
    spec = config.warehouse
    wh: Warehouse
    try:
        if spec.databricks is not None:
            from bot.warehouse.databricks_backend import DatabricksWarehouse

            wh = DatabricksWarehouse.from_env(
                server_hostname=spec.databricks.server_hostname,
                http_path=spec.databricks.http_path,
                env=env,
            )
        else:
            path = spec.embedded.path if spec.embedded else ":memory:"
            if path != ":memory:" and not Path(path).exists():
                # Opening it would create an empty warehouse; the doctor never writes.
                return [
                    Line(
                        "fail",
                        "warehouse",
                        f"{path} does not exist",
                        "create it with `jobs-bot seed` or `jobs-bot load`",
                    )
                ]
            from bot.warehouse import open_warehouse

            wh = open_warehouse(None if path == ":memory:" else path)
    except Exception as e:  # noqa: BLE001  e.g. no credentials: the message says which
        return [Line("fail", "warehouse", first_line(e), "see the secrets lines above")]
    try:
        return check_warehouse(wh, principal=principal)
    finally:
        wh.close()


def _slack_probe(config: Config) -> SlackProbe:
    # The one place the doctor reaches the Slack adapter; bot.slack owns the client and the
    # error mapping, this only asks it questions.
    from bot.doctor.slack_probe import WebSlackProbe

    s = config.secrets
    bot_token = s.slack_bot_token.get_secret_value() if s.slack_bot_token else ""
    app_token = s.slack_app_token.get_secret_value() if s.slack_app_token else ""
    return WebSlackProbe(bot_token, app_token, config.slack.api_url)
