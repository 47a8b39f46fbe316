"""Configuration: one frozen, typed config from YAML + environment; errors name the YAML path.

Public API: `load_config`, `check_file`, `ConfigError`, `Config`, `Secrets`, `SlaRule`, and the
parsers other modules reuse (`parse_duration`, `parse_days`, `cron_trigger`).
"""

from bot.config.loading import ConfigError, check_file, load_config
from bot.config.model import Config
from bot.config.parsing import (
    cron_trigger,
    format_days,
    parse_clock_time,
    parse_days,
    parse_duration,
)
from bot.config.secrets import Secrets
from bot.config.sections import (
    JobSelector,
    RoutingRule,
    SlaRule,
    WarehouseConfig,
    WorkspaceConfig,
)

__all__ = [
    "Config",
    "ConfigError",
    "JobSelector",
    "RoutingRule",
    "Secrets",
    "SlaRule",
    "WarehouseConfig",
    "WorkspaceConfig",
    "check_file",
    "cron_trigger",
    "format_days",
    "load_config",
    "parse_clock_time",
    "parse_days",
    "parse_duration",
]
