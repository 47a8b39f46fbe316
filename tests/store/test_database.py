"""The connection layer: URLs people write, times that must be aware, and an in-memory
SQLite store (for demos) that all threads share."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.clock import FixedClock
from bot.models import JobKey
from bot.store import IncidentKey, Store
from bot.store.database import normalise_url
from tests.store.conftest import START
from tests.store.racing import race


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgresql://bot:pw@db:5432/state", "postgresql+psycopg://bot:pw@db:5432/state"),
        ("postgres://db/state", "postgresql+psycopg://db/state"),
        ("postgresql+psycopg://db/state", "postgresql+psycopg://db/state"),
        ("sqlite:///jobs-bot-state.db", "sqlite:///jobs-bot-state.db"),
    ],
)
def test_postgres_urls_mean_psycopg_3(given: str, used: str) -> None:
    assert normalise_url(given) == used


def test_naive_times_are_refused(store: Store) -> None:
    with pytest.raises(Exception, match="naive datetime"):
        store.mutes.mute(JobKey("1", "2"), "U_ANA", datetime(2026, 3, 2, 10, 0))


def test_times_come_back_aware_utc(store: Store) -> None:
    mute = store.mutes.mute(JobKey("1", "2"), "U_ANA", START + timedelta(hours=1))
    active = store.mutes.active_mute(JobKey("1", "2"))
    assert active == mute
    assert active.until.utcoffset() == timedelta(0)


def test_an_in_memory_store_is_one_database_for_every_thread(clock: FixedClock) -> None:
    with Store.open("sqlite://", clock) as store:
        outcomes = race(
            6,
            lambda i: store.incidents.open_or_bump_failure(
                IncidentKey("1", "2"), f"r{i}", START, None
            ),
        )
        assert sum(o.created for o in outcomes) == 1
        [incident] = store.incidents.open_incidents()
        assert incident.streak == 6
