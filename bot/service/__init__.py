"""Use cases between the entry points (Slack listeners, `jobs-bot ask`) and the adapters.

Today: answering `/jobs` commands (`CommandService`). Split by noun: `commands` dispatches and
caches, `failing`, `jobs` (status, running), `sla` and `cost` build each answer's view
(`views`: one frozen dataclass per template), `phrases` words the monitors' facts, `answer`
holds the result type, the cache and the guarded read (`Reader.read` around the typed queries
of `bot.warehouse.queries`, the only read path), and `ports` the Protocols the service needs
from adapters.
"""

from bot.service.answer import Answer, ResultCache, WarehouseUnavailable
from bot.service.commands import CommandService, cache_key

__all__ = ["Answer", "CommandService", "ResultCache", "WarehouseUnavailable", "cache_key"]
