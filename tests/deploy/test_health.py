"""The health server and the metrics: /healthz, /readyz from the probes it is handed, /metrics
in the Prometheus text format from the bot's own registry."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.health import HealthServer, Verdict, polls_recent, reachable
from bot.metrics import MeteredWarehouse, Metrics
from bot.warehouse import open_warehouse


def get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode()


@pytest.fixture
def metrics() -> Metrics:
    return Metrics(wall_clock=lambda: 1_000.0)


@pytest.fixture
def server(metrics: Metrics) -> Iterator[HealthServer]:
    s = HealthServer(metrics, host="127.0.0.1", port=0)
    s.start()
    yield s
    s.stop()


def test_healthz_is_alive(server: HealthServer) -> None:
    assert get(server.url + "/healthz")[::2] == (200, "ok\n")
    assert get(server.url + "/nope")[0] == 404


def test_readyz_reports_every_probe_and_fails_when_one_does(server: HealthServer) -> None:
    server.ready = {"slack": lambda: True, "store": lambda: Verdict(True, "sqlite")}
    status, _, body = get(server.url + "/readyz")
    assert status == 200
    assert body == "slack: ok\nstore: ok (sqlite)\n"
    server.ready["slack"] = lambda: Verdict(False, "socket closed")
    status, _, body = get(server.url + "/readyz")
    assert status == 503 and "slack: FAIL (socket closed)" in body


def test_a_probe_that_raises_fails_without_showing_its_message(server: HealthServer) -> None:
    def store() -> None:
        raise ConnectionError("postgresql://bot:s3cret@db/jobsbot refused")

    server.ready = {"store": reachable(store)}
    status, _, body = get(server.url + "/readyz")
    assert status == 503
    assert body == "store: FAIL (ConnectionError)\n"


def test_polls_recent_waits_for_the_first_poll_then_wants_it_fresh() -> None:
    now = [1_000.0]
    metrics = Metrics(wall_clock=lambda: now[0])
    probe = polls_recent(metrics, ["1", "2"], 90, wall_clock=lambda: now[0])
    assert probe().ok  # just started: no poll expected yet
    now[0] = 1_100.0
    verdict = probe()
    assert not verdict.ok and verdict.detail == "1 last polled never; 2 last polled never"
    metrics.poll_done("1", 0.2)
    metrics.poll_done("2", 0.3)
    assert probe().ok
    now[0] = 1_191.0
    assert probe().detail == "1 last polled 91 s ago; 2 last polled 91 s ago"
    metrics.poll_done("1", 0.3)
    metrics.poll_done("2", 0.3, ok=False)  # a failed poll does not count as fresh
    assert probe().detail == "2 last polled 91 s ago"


def test_metrics_are_prometheus_text_on_the_bots_own_registry(
    server: HealthServer, metrics: Metrics
) -> None:
    metrics.poll_done("1", 0.4)
    metrics.poll_done("1", 2.0, ok=False)
    metrics.alert("failure")
    metrics.alert("failure")
    metrics.alert("sla")
    metrics.slack_call("chat.postMessage")
    metrics.slack_call("chat.postMessage", "ratelimited")
    metrics.watch_outbox(lambda: 3)
    metrics.warehouse_query("failing_jobs", 1.5)
    metrics.jobs_api_call("1", "unavailable")
    status, content_type, body = get(server.url + "/metrics")
    assert status == 200 and content_type.startswith("text/plain; version=0.0.4")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }
    assert samples[("jobs_bot_polls_total", (("outcome", "ok"), ("workspace", "1")))] == 1
    assert samples[("jobs_bot_polls_total", (("outcome", "error"), ("workspace", "1")))] == 1
    assert samples[("jobs_bot_poll_duration_seconds_count", (("workspace", "1"),))] == 2
    assert (
        samples[("jobs_bot_last_successful_poll_timestamp_seconds", (("workspace", "1"),))] == 1000
    )
    assert samples[("jobs_bot_alerts_total", (("kind", "failure"),))] == 2
    assert samples[("jobs_bot_slack_calls_total", (("method", "chat.postMessage"),))] == 2
    key = ("jobs_bot_slack_errors_total", (("code", "ratelimited"), ("method", "chat.postMessage")))
    assert samples[key] == 1
    assert samples[("jobs_bot_outbox_depth", ())] == 3
    assert (
        samples[
            ("jobs_bot_warehouse_queries_total", (("outcome", "ok"), ("query", "failing_jobs")))
        ]
        == 1
    )
    assert (
        samples[("jobs_bot_jobs_api_calls_total", (("outcome", "unavailable"), ("workspace", "1")))]
        == 1
    )
    # A second bot in the same process starts from zero (no global registry).
    assert Metrics().value("jobs_bot_alerts_total", {"kind": "failure"}) is None


def test_the_metered_warehouse_counts_and_times_every_query(metrics: Metrics) -> None:
    ticks = iter([10.0, 10.25, 20.0, 20.5])
    wh = MeteredWarehouse(open_warehouse(None), metrics, monotonic=lambda: next(ticks))
    try:
        assert wh.run("probe_lakeflow_jobs", {}) == []
        with pytest.raises(ValueError, match="unknown param"):
            wh.run("probe_lakeflow_jobs", {"extra": 1})
    finally:
        wh.close()
    ok = {"query": "probe_lakeflow_jobs", "outcome": "ok"}
    assert metrics.value("jobs_bot_warehouse_queries_total", ok) == 1
    assert metrics.value("jobs_bot_warehouse_queries_total", {**ok, "outcome": "error"}) == 1
    seconds = metrics.value("jobs_bot_warehouse_query_duration_seconds_sum", {"query": ok["query"]})
    assert seconds == pytest.approx(0.75)


def test_a_busy_port_fails_at_start(server: HealthServer, metrics: Metrics) -> None:
    second = HealthServer(metrics, host="127.0.0.1", port=server.port)
    with pytest.raises(OSError):
        second.start()
