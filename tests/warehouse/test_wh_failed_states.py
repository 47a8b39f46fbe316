"""One definition of "failed": every `IN (...)` list of failed states in the query files says
exactly what bot.models.FAILED_STATES says, so SQL counts and Python checks cannot drift."""

from __future__ import annotations

import re

from bot.models import FAILED_STATES
from bot.warehouse import sql

_IN_LIST = re.compile(r"\bIN\s*\(\s*('[^']*'(?:\s*,\s*'[^']*')*)\s*\)", re.IGNORECASE)
_LINE_COMMENT = re.compile(r"--[^\n]*")


def failed_state_lists() -> list[tuple[str, frozenset[str]]]:
    """(query name, states) for each literal IN list that names a failed state."""
    found = []
    for name in sql.query_names():
        text = _LINE_COMMENT.sub("", sql.load(name).text)
        for match in _IN_LIST.finditer(text):
            states = frozenset(re.findall(r"'([^']*)'", match.group(1)))
            if states & {"FAILED", "ERROR", "TIMED_OUT", "INTERNAL_ERROR"}:
                found.append((name, states))
    return found


def test_every_failed_state_list_in_sql_is_failed_states() -> None:
    lists = failed_state_lists()
    # Seven lists today (failing_jobs, job_run_stats, job_duration_trend, sla_inputs, waste,
    # cost_anomaly_candidates, digest_summary ×2): fewer means the parser stopped seeing them.
    assert len(lists) >= 7, lists
    drifted = [(name, sorted(states)) for name, states in lists if states != FAILED_STATES]
    assert drifted == [], f"queries whose failed states differ from {sorted(FAILED_STATES)}"


def test_the_parser_sees_a_drift() -> None:
    text = "SELECT count_if(state IN ('ERROR', 'FAILED')) -- IN ('X')\nFROM t WHERE s IN ('UI')"
    lists = [
        frozenset(re.findall(r"'([^']*)'", m.group(1)))
        for m in _IN_LIST.finditer(_LINE_COMMENT.sub("", text))
    ]
    assert lists == [frozenset({"ERROR", "FAILED"}), frozenset({"UI"})]
    assert lists[0] != FAILED_STATES
