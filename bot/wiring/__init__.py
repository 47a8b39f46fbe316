"""The composition root: config + clock in, the assembled bot out — warehouse, Jobs API
clients, state store, use cases, Slack app and its transport, the notifier and the scheduler —
with `start()` / `stop()`. `jobs-bot run`, `jobs-bot ask`, `jobs-bot demo` and the end-to-end
test stacks all build here; nothing else wires parts together, so every entry point runs the
same bot. `build_replay` assembles `jobs-bot replay` (and its tests) here too.

One package, one root, split by noun: `assembly` (`build`, the answering half), `watch` (the
half that speaks first and its scheduler jobs), `slack_side` (`SlackLink` and the Bolt app
with its transport), `bot` (the assembled `Bot`, start / stop), `replay` (`build_replay`).
"""

from bot.wiring.assembly import build, open_configured_warehouse
from bot.wiring.bot import Bot
from bot.wiring.replay import build_replay
from bot.wiring.slack_side import SlackLink, Transport, slack_link_from_config

__all__ = [
    "Bot",
    "SlackLink",
    "Transport",
    "build",
    "build_replay",
    "open_configured_warehouse",
    "slack_link_from_config",
]
