"""Secrets: read only from the environment, held as SecretStr so they never reach a repr or a
log line; and the check that flags secrets pasted into the YAML file."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, SecretStr

# Environment variable for each field.
ENV_NAMES = {
    "slack_bot_token": "SLACK_BOT_TOKEN",
    "slack_app_token": "SLACK_APP_TOKEN",
    "slack_signing_secret": "SLACK_SIGNING_SECRET",
    "databricks_host": "DATABRICKS_HOST",
    "databricks_token": "DATABRICKS_TOKEN",
    "databricks_client_id": "DATABRICKS_CLIENT_ID",
    "databricks_client_secret": "DATABRICKS_CLIENT_SECRET",
    "state_url": "JOBS_BOT_STATE_URL",
}

RunMode = Literal["socket", "http", "demo"]


class Secrets(BaseModel):
    """Credentials from the environment. All optional here: `check-config` must work on a
    laptop without them; `missing_for` says what a production run still needs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    databricks_host: str | None = None
    databricks_token: SecretStr | None = None
    databricks_client_id: str | None = None
    databricks_client_secret: SecretStr | None = None
    # A state store URL with a password in it (postgresql://user:pass@host/db).
    state_url: SecretStr | None = None
    # Unified auth can also come from ~/.databrickscfg; then no token is needed here.
    databricks_profile: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Secrets:
        values: dict[str, str] = {}
        for field, name in ENV_NAMES.items():
            value = env.get(name, "").strip()
            if value:
                values[field] = value
        profile = env.get("DATABRICKS_CONFIG_PROFILE", "").strip()
        if profile:
            values["databricks_profile"] = profile
        return cls.model_validate(values)

    def missing_for(self, mode: RunMode, *, databricks: bool = True) -> list[str]:
        """Environment variables a run in `mode` still needs, as lines to show a person.

        socket: bot token + app token (xapp-); http: bot token + signing secret; demo: none.
        With `databricks`, one Databricks auth method: a token, or an OAuth client id + secret
        (or a config profile)."""
        if mode == "demo":
            return []
        missing: list[str] = []
        if self.slack_bot_token is None:
            missing.append("SLACK_BOT_TOKEN")
        if mode == "socket" and self.slack_app_token is None:
            missing.append("SLACK_APP_TOKEN")
        if mode == "http" and self.slack_signing_secret is None:
            missing.append("SLACK_SIGNING_SECRET")
        has_oauth = self.databricks_client_id is not None and (
            self.databricks_client_secret is not None
        )
        if databricks and not (
            self.databricks_token is not None or has_oauth or self.databricks_profile
        ):
            if self.databricks_client_id is not None:
                missing.append("DATABRICKS_CLIENT_SECRET")
            else:
                missing.append(
                    "DATABRICKS_TOKEN (or DATABRICKS_CLIENT_ID + DATABRICKS_CLIENT_SECRET)"
                )
        return missing


# Key names that hold credentials. Matched on whole words of the key, so `token_ttl` is a
# secret-looking key but `tokenizer` is not.
_SECRET_WORDS = {
    "secrets",
    "token",
    "secret",
    "password",
    "passwd",
    "pwd",
    "apikey",
    "credential",
    "credentials",
    "private",
}
# Values that are credentials whatever key they sit under.
_SECRET_VALUE = re.compile(r"^(xox[abpe]-|xapp-|dapi[0-9a-f]{16,})", re.I)


def secret_like_key(key: str) -> bool:
    words = re.split(r"[^a-z0-9]+", key.lower().replace("api_key", "apikey"))
    return any(w in _SECRET_WORDS for w in words)


def secret_like_value(value: object) -> bool:
    return isinstance(value, str) and bool(_SECRET_VALUE.match(value.strip()))


def env_hint(path: tuple[str | int, ...], value: object = None) -> str:
    """Where a secret pasted into the file at `path` belongs instead: the documented
    environment variable, judged first by the value itself (a Slack token says what it is),
    then by the words of the whole path, so `slack.token` is the Slack bot token and not
    DATABRICKS_TOKEN just because its own key is "token"."""
    words = {w for part in path for w in re.split(r"[^a-z0-9]+", str(part).lower()) if w}
    section = str(path[0]).lower() if path else ""
    text = value.strip() if isinstance(value, str) else ""
    if text.startswith("xapp-"):
        return "SLACK_APP_TOKEN"
    if text.startswith("xox"):
        return "SLACK_BOT_TOKEN"
    databricks_token = bool(re.match(r"^dapi[0-9a-f]{16,}", text, re.I))
    if section == "workspaces" and (databricks_token or words & {"token", "pat"}):
        # A PAT works in its own workspace only, so with several workspaces each one's token
        # sits in the variable its pat_env names.
        return "DATABRICKS_TOKEN, or a variable named by this workspace's pat_env"
    if databricks_token:
        return "DATABRICKS_TOKEN"
    if "signing" in words:
        return "SLACK_SIGNING_SECRET"
    if section == "slack" or "slack" in words:
        return "SLACK_APP_TOKEN" if words & {"app", "xapp"} else "SLACK_BOT_TOKEN"
    if "bot" in words and "token" in words:
        return "SLACK_BOT_TOKEN"
    if section == "state":
        return "JOBS_BOT_STATE_URL"
    if "client" in words and "secret" in words:
        return "DATABRICKS_CLIENT_SECRET"
    if words & {"databricks", "warehouse", "token", "pat"}:
        return "DATABRICKS_TOKEN"
    return ""


def find_secrets(
    data: object, path: tuple[str | int, ...] = (), *, skip: frozenset[str] = frozenset()
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Yield (path, message) for every key or value in parsed YAML that looks like a secret.

    Keys inside free-form maps named in `skip` (tags, owner emails) are user data, not config
    keys, so only their values are checked."""
    if isinstance(data, dict):
        for key, value in data.items():
            sub = (*path, key)
            free_form = bool(path) and path[-1] in skip
            if not free_form and isinstance(key, str) and secret_like_key(key):
                hint = env_hint(sub, value)
                where = f" ({hint})" if hint else ""
                yield sub, f"looks like a secret: put it in the environment{where}, not the file"
                continue
            yield from find_secrets(value, sub, skip=skip)
    elif isinstance(data, list):
        for i, item in enumerate(data):
            yield from find_secrets(item, (*path, i), skip=skip)
    elif secret_like_value(data):
        hint = env_hint(path, data)
        yield path, f"looks like a secret: put it in the environment ({hint}), not the file"
