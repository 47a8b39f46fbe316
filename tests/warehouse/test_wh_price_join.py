"""Every cost query prices usage with the same join to list_prices (unit, currency and the
price's validity window, A1): the copies must not drift. One definition in the tests, since
each file stays a whole Databricks statement that runs unchanged on a SQL warehouse."""

from __future__ import annotations

import re

from bot.warehouse import sql

PRICE_JOIN = """JOIN system.billing.list_prices AS p
ON u.cloud = p.cloud
AND u.sku_name = p.sku_name
AND u.usage_unit = p.usage_unit
AND p.currency_code = 'USD'
AND u.usage_start_time >= p.price_start_time
AND (u.usage_end_time <= p.price_end_time OR p.price_end_time IS NULL)"""


def _joins(text: str) -> list[str]:
    lines = [line.strip() for line in text.splitlines()]
    found, i = [], 0
    while i < len(lines):
        if lines[i].startswith("JOIN system.billing.list_prices"):
            found.append("\n".join(lines[i : i + 7]))
            i += 7
        else:
            i += 1
    return found


def test_every_price_join_is_the_same() -> None:
    pricing = [n for n in sql.query_names() if "system.billing.list_prices" in sql.load(n).text]
    priced = [n for n in pricing if not n.startswith("probe_")]
    assert len(priced) >= 8, priced
    for name in priced:
        joins = _joins(sql.load(name).text)
        assert joins, f"{name} reads list_prices without the shared join"
        for join in joins:
            assert join == PRICE_JOIN, f"{name}: the price join drifted:\n{join}"


def test_the_check_sees_a_drift() -> None:
    drifted = PRICE_JOIN.replace("AND u.usage_unit = p.usage_unit\n", "")
    assert _joins(drifted.replace("\n", "\n  ")) != [PRICE_JOIN]
    assert re.search(r"currency_code", PRICE_JOIN)
