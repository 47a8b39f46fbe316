"""`jobs-bot doctor`: checks a deployment end to end — config, secrets, the Slack token and its
scopes against manifest.yml, each channel, the warehouse and every system table the queries
read, each workspace's Jobs API, the state store's schema — one line per check, with the fix.

`lines` (one report line), `checks` (secrets, warehouse, Jobs API, store), `slack_checks`
(token, scopes, channels, on a probe), `slack_probe` (the questions asked of Slack through
bot.slack), `diagnose` (the whole run from a config file).
"""

from bot.doctor.checks import SYSTEM_TABLES, probe_query
from bot.doctor.diagnose import diagnose
from bot.doctor.lines import Line, failed

__all__ = ["SYSTEM_TABLES", "Line", "diagnose", "failed", "probe_query"]
