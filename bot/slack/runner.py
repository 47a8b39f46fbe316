"""`jobs-bot run`: the production entry point. Socket Mode by default (no public URL needed),
HTTP mode with `--http PORT`. Secrets come only from the environment."""

from __future__ import annotations

import logging

from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.errors import UserError

log = logging.getLogger(__name__)


def web_client(token: str, base_url: str | None = None) -> WebClient:
    """A WebClient that retries rate limits (Retry-After), 5xx and dropped connections."""
    client = WebClient(token=token, base_url=base_url or WebClient.BASE_URL)
    client.retry_handlers = [
        ConnectionErrorRetryHandler(max_retry_count=2),
        RateLimitErrorRetryHandler(max_retry_count=3),
        ServerErrorRetryHandler(max_retry_count=2),
    ]
    return client


def run_command(*, config: str, http_port: int | None) -> int:
    from bot.clock import SystemClock
    from bot.config import load_config
    from bot.service import CommandService
    from bot.slack.app import build_app
    from bot.warehouse import make_warehouse

    cfg = load_config(config)
    mode = "http" if http_port is not None else cfg.slack.mode
    missing = cfg.secrets.missing_for(mode, databricks=cfg.uses_databricks)
    if missing:
        raise UserError(f"set these environment variables first: {', '.join(missing)}")
    wh_cfg = cfg.warehouse
    if wh_cfg.databricks is not None:
        warehouse = make_warehouse(
            "databricks",
            server_hostname=wh_cfg.databricks.server_hostname,
            http_path=wh_cfg.databricks.http_path,
        )
    else:
        warehouse = make_warehouse("embedded", db_path=wh_cfg.embedded.path)
    service = CommandService(warehouse, cfg, SystemClock())
    client = web_client(cfg.secrets.slack_bot_token.get_secret_value(), cfg.slack.api_url)
    if mode == "http":
        from bot.slack.http_server import BoltHttpServer

        secret = cfg.secrets.slack_signing_secret.get_secret_value()
        app = build_app(client, secret, service=service, command=cfg.slack.command)
        port = http_port if http_port is not None else cfg.slack.http_port
        server = BoltHttpServer(app, host="0.0.0.0", port=port)
        log.info("jobs-bot listening on %s", server.url)
        server.serve_forever()
        return 0
    app = build_app(client, None, service=service, command=cfg.slack.command)
    log.info("jobs-bot connecting to Slack in Socket Mode")
    SocketModeHandler(app, cfg.secrets.slack_app_token.get_secret_value()).start()
    return 0
