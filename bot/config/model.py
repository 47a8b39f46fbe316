"""The whole configuration: one frozen object built from YAML + environment, with the small
lookups the rest of the bot asks of it (where does this job's alert go, which SLAs apply,
who is its owner in Slack, may this person rerun)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from zoneinfo import ZoneInfo

from pydantic import Field

from bot.config.secrets import Secrets
from bot.config.sections import (
    Cost,
    Monitoring,
    Permissions,
    RoutingRule,
    Schedules,
    Section,
    Slack,
    SlaRule,
    State,
    TimeZoneName,
    UserId,
    WarehouseConfig,
    WorkspaceConfig,
    compile_name_pattern,
)


class Config(Section):
    timezone: TimeZoneName = "UTC"
    warehouse: WarehouseConfig
    workspaces: tuple[WorkspaceConfig, ...] = ()
    slack: Slack
    routing: tuple[RoutingRule, ...] = ()
    slas: tuple[SlaRule, ...] = ()
    schedules: Schedules = Schedules()
    cost: Cost = Cost()
    monitoring: Monitoring = Monitoring()
    permissions: Permissions = Permissions()
    owners: dict[str, UserId] = {}  # Databricks owner (email or name) -> Slack user
    state: State = State()
    # Never read from the file (the loader refuses the key); filled from the environment.
    secrets: Secrets = Field(default_factory=Secrets, exclude=True)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def state_url(self) -> str:
        """The state store URL; JOBS_BOT_STATE_URL (it may hold a password) wins over the file."""
        if self.secrets.state_url is not None:
            return self.secrets.state_url.get_secret_value()
        return self.state.url

    def channel(self, name_or_channel: str) -> str:
        """A channel key from slack.channels resolved to its channel; other values as given."""
        return self.slack.channels.get(name_or_channel, name_or_channel)

    def workspace(self, id_or_name: str | int) -> WorkspaceConfig | None:
        key = str(id_or_name)
        for ws in self.workspaces:
            if key in (ws.id, ws.name):
                return ws
        return None

    def route_channel(
        self,
        job_name: str | None,
        workspace_id: str | int | None,
        job_id: str | int | None,
        tags: Mapping[str, str] | None = None,
    ) -> str:
        """The channel for a job's alerts: the first routing rule that matches, else the
        default channel. Returned as configured: "#name" or a channel id."""
        for rule in self.routing:
            if self._rule_matches(rule, job_name, workspace_id, job_id, tags or {}):
                return self.channel(rule.channel)
        return self.slack.default_channel

    def _rule_matches(
        self,
        rule: RoutingRule,
        job_name: str | None,
        workspace_id: str | int | None,
        job_id: str | int | None,
        tags: Mapping[str, str],
    ) -> bool:
        ws_id = None if workspace_id is None else str(workspace_id)
        if rule.tag is not None and any(tags.get(k) != v for k, v in rule.tag.items()):
            return False
        if rule.name_pattern is not None and not (
            job_name is not None and compile_name_pattern(rule.name_pattern).search(job_name)
        ):
            return False
        if rule.workspace is not None:
            target = self.workspace(rule.workspace)
            wanted = target.id if target is not None else rule.workspace
            if ws_id != wanted:
                return False
        job_key = None if job_id is None else str(job_id)
        return rule.job is None or rule.job.matches(job_name, ws_id, job_key)

    def slas_for(
        self, job_name: str | None, workspace_id: str | int | None, job_id: str | int | None
    ) -> list[SlaRule]:
        ws_id = None if workspace_id is None else str(workspace_id)
        job_key = None if job_id is None else str(job_id)
        return [rule for rule in self.slas if rule.job.matches(job_name, ws_id, job_key)]

    def owner_slack_id(self, owner: str | None) -> str | None:
        """The Slack user the config maps a Databricks owner (email or name) to, if any.
        Emails compare case-insensitively; otherwise the caller looks the email up in Slack."""
        if not owner:
            return None
        if owner in self.owners:
            return self.owners[owner]
        folded = owner.strip().lower()
        for key, user in self.owners.items():
            if key.lower() == folded:
                return user
        return None

    def may_rerun(
        self, user_id: str, user_group_ids: Iterable[str] = (), email: str | None = None
    ) -> bool:
        """Config-mode answer. In `databricks` mode this is False: ask the permissions API."""
        return self.permissions.rerun.allows(user_id, tuple(user_group_ids), email)

    def may_acknowledge(
        self, user_id: str, user_group_ids: Iterable[str] = (), email: str | None = None
    ) -> bool:
        return self.permissions.acknowledge.allows(user_id, tuple(user_group_ids), email)

    def may_mute(
        self, user_id: str, user_group_ids: Iterable[str] = (), email: str | None = None
    ) -> bool:
        return self.permissions.mute.allows(user_id, tuple(user_group_ids), email)

    @property
    def uses_databricks(self) -> bool:
        """Whether a run needs the shared Databricks credentials (DATABRICKS_TOKEN or OAuth):
        for a SQL warehouse, or a Jobs API workspace without a PAT of its own (`pat_env`)."""
        return self.warehouse.databricks is not None or any(
            w.jobs_api and not w.pat_env for w in self.workspaces
        )

    def missing_secrets(self) -> list[str]:
        """What `jobs-bot run` still needs from the environment for this config."""
        return self.secrets.missing_for(self.slack.mode, databricks=self.uses_databricks)
