"""Use cases between the entry points (Slack listeners, `jobs-bot ask`) and the adapters.

Today: answering `/jobs` commands (`CommandService`). Split by noun: `commands` dispatches and
caches, `failing`, `jobs` (status, running), `sla` and `cost` build each answer's data,
`answer` holds the result type, the cache and the guarded warehouse reads.
"""

from bot.service.answer import Answer, ResultCache, WarehouseUnavailable
from bot.service.commands import CommandService, cache_key

__all__ = ["Answer", "CommandService", "ResultCache", "WarehouseUnavailable", "cache_key"]
