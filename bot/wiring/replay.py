"""`jobs-bot replay` assembled: the scheduled work over simulated time on an embedded
warehouse file, with a fresh in-memory store (bot/service/replay.py)."""

from __future__ import annotations

from datetime import datetime

from bot.clock import FixedClock
from bot.config import Config
from bot.render import Renderer
from bot.service.replay import Replay


def build_replay(config: Config, db_path: str, *, start: datetime) -> Replay:
    """`jobs-bot replay`: the scheduled work over simulated time (bot/service/replay.py) on
    the embedded warehouse file `db_path` seen as it was at each moment, a fresh in-memory
    store and a clock set to `start`. Posts nothing, needs no credentials. The caller closes
    it (`with build_replay(...) as replay:`), which closes the store and the warehouse."""
    from bot.store import Store
    from bot.warehouse.as_of import AsOfWarehouse

    clock = FixedClock(start)
    warehouse = AsOfWarehouse.open(db_path)
    try:
        store = Store.open("sqlite://", clock)
    except BaseException:
        warehouse.close()
        raise
    renderer = Renderer(tz=config.timezone, currency=config.cost.currency, clock=clock)
    return Replay(config=config, clock=clock, renderer=renderer, store=store, warehouse=warehouse)
