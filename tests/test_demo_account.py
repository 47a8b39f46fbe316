"""The demo account generator: deterministic, and the data tells the story it claims, checked with
SQL against the generated DuckDB file the way the bot's queries will read it."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime

import pytest

from bot.errors import UserError
from bot.warehouse.duckdb_backend import DuckDBWarehouse
from bot.warehouse.loader import open_db
from sandbox.demo_account import DemoStory, generate, seed_command
from tests.support.dbcompare import differing_tables, row_counts

END = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
END_NAIVE = END.replace(tzinfo=None)
FAILURE = ("FAILED", "ERROR", "TIMED_OUT")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> tuple[str, DemoStory]:
    db = str(tmp_path_factory.mktemp("demo") / "demo.duckdb")
    return db, generate(db, end=END)


@pytest.fixture(scope="module")
def con(seeded):
    c = open_db(seeded[0], read_only=True)
    yield c
    c.close()


def q(con, sql: str, params: dict | None = None) -> list[tuple]:
    return con.execute(sql, params or {}).fetchall()


def test_same_seed_same_rows_other_seed_other_rows(tmp_path):
    a, b, c = (str(tmp_path / f"{n}.duckdb") for n in "abc")
    sa = generate(a, jobs=20, days=5, workspaces=2, seed=3, end=END)
    sb = generate(b, jobs=20, days=5, workspaces=2, seed=3, end=END)
    generate(c, jobs=20, days=5, workspaces=2, seed=4, end=END)
    assert all(n > 0 for n in row_counts(a).values()), "every table has rows"
    assert differing_tables(a, b) == []
    assert sa == sb
    differ = differing_tables(a, c)
    assert "system.lakeflow.job_run_timeline" in differ and "system.billing.usage" in differ


def test_regenerating_replaces_the_tables(tmp_path):
    db = str(tmp_path / "x.duckdb")
    generate(db, jobs=20, days=3, seed=1, end=END)
    generate(db, jobs=15, days=2, seed=2, end=END)
    c = open_db(db, read_only=True)
    jobs = q(c, "SELECT count(DISTINCT (workspace_id, job_id)) FROM lakeflow.jobs")[0][0]
    c.close()
    assert jobs == 15


def test_every_usage_row_prices_to_exactly_one_list_price(con, seeded):
    bad = q(con, """
        SELECT u.record_id, count(p.sku_name) AS n
        FROM billing.usage u LEFT JOIN billing.list_prices p
          ON u.sku_name = p.sku_name AND u.cloud = p.cloud
         AND u.usage_start_time >= p.price_start_time
         AND (p.price_end_time IS NULL OR u.usage_end_time <= p.price_end_time)
        GROUP BY 1 HAVING n <> 1""")  # fmt: skip
    assert bad == []
    change = seeded[1].price_change.replace(tzinfo=None)
    before, after = q(con, "SELECT count_if(usage_end_time <= $c), count_if(usage_start_time >= $c) "
                           "FROM billing.usage", {"c": change})[0]  # fmt: skip
    assert before > 0 and after > 0, "usage on both sides of the price change"
    skus = q(con, "SELECT count(DISTINCT sku_name), count(*) FILTER (price_end_time IS NULL) "
                  "FROM billing.list_prices")[0]  # fmt: skip
    assert skus == (3, 3)


@pytest.mark.parametrize("table", ["lakeflow.job_run_timeline", "lakeflow.job_task_run_timeline"])
def test_slices_lie_within_one_clock_hour(con, table):
    bad = q(
        con,
        f"""
        SELECT count(*) FROM {table}
        WHERE period_end_time <= period_start_time
           OR date_trunc('hour', period_start_time)
              <> date_trunc('hour', period_end_time - INTERVAL 1 MICROSECOND)""",
    )
    assert bad == [(0,)]
    long_runs = q(con, f"SELECT count(*) FROM (SELECT run_id FROM {table} "
                       "GROUP BY workspace_id, run_id HAVING count(*) > 2)")[0][0]  # fmt: skip
    assert long_runs > 0


@pytest.mark.parametrize("table", ["lakeflow.job_run_timeline", "lakeflow.job_task_run_timeline"])
def test_result_state_only_on_the_slice_that_ends_an_attempt(con, table):
    # A slice without a result continues in the next slice of the same run, or the run is
    # still going at the end time.
    dangling = q(
        con,
        f"""
        SELECT count(*) FROM {table} s
        WHERE s.result_state IS NULL AND s.period_end_time <> $end
          AND NOT EXISTS (SELECT 1 FROM {table} n
                          WHERE n.workspace_id = s.workspace_id AND n.run_id = s.run_id
                            AND n.period_start_time = s.period_end_time)""",
        {"end": END_NAIVE},
    )
    assert dangling == [(0,)]
    # A slice with a result is never continued without a gap (only a repair resumes a run).
    continued = q(
        con,
        f"""
        SELECT count(*) FROM {table} s JOIN {table} n
          ON n.workspace_id = s.workspace_id AND n.run_id = s.run_id
         AND n.period_start_time = s.period_end_time
        WHERE s.result_state IS NOT NULL""",
    )
    assert continued == [(0,)]
    states = {r[0] for r in q(con, f"SELECT DISTINCT result_state FROM {table}")}
    assert {"SUCCEEDED", "FAILED", "ERROR", None} <= states
    codes_without_state = q(con, f"SELECT count(*) FROM {table} WHERE (result_state IS NULL) "
                                 "<> (termination_code IS NULL)")  # fmt: skip
    assert codes_without_state == [(0,)]


def test_in_progress_runs_have_slices_up_to_the_end_and_no_terminal_row(con, seeded):
    story = seeded[1]
    assert len(story.in_progress) >= 2
    for run in story.in_progress:
        terminal, last_end = q(con, """
            SELECT count(result_state), max(period_end_time) FROM lakeflow.job_run_timeline
            WHERE workspace_id = $ws AND job_id = $job AND run_id = $run""",
            {"ws": run.job.workspace_id, "job": run.job.job_id, "run": run.run_id})[0]  # fmt: skip
        assert terminal == 0
        assert last_end == END_NAIVE
    assert max(q(con, "SELECT max(period_end_time) FROM lakeflow.job_run_timeline")[0]) == END_NAIVE


def test_repaired_runs_have_a_second_terminal_row_later(con, seeded):
    rows = q(con, """
        SELECT run_id, arg_max(result_state, period_end_time), arg_min(result_state, period_end_time)
        FROM lakeflow.job_run_timeline WHERE result_state IS NOT NULL
        GROUP BY workspace_id, job_id, run_id HAVING count(*) > 1""")  # fmt: skip
    assert len(rows) == seeded[1].repaired_runs > 0
    assert all(last == "SUCCEEDED" and first in FAILURE for _, last, first in rows)


def test_a_few_job_ids_repeat_across_workspaces_as_different_jobs(con, seeded):
    latest = """(SELECT * FROM lakeflow.jobs
                  QUALIFY row_number() OVER (PARTITION BY workspace_id, job_id
                                             ORDER BY change_time DESC) = 1)"""
    shared = q(con, f"""
        SELECT job_id, count(DISTINCT workspace_id), count(DISTINCT name), list(name)
        FROM {latest} GROUP BY job_id HAVING count(DISTINCT workspace_id) > 1""")  # fmt: skip
    jobs = q(con, f"SELECT count(*) FROM {latest}")[0][0]
    # The pitfall is there (ids are unique only within a workspace), but rare, as in a real
    # account: every other job's id is its own.
    assert 2 <= len(shared) <= jobs // 20
    assert all(workspaces == names == 2 for _, workspaces, names, _ in shared)
    assert any("nightly_sales" in names for *_, names in shared)
    assert set(seeded[1].shared_job_ids) == {r[0] for r in shared}


def test_scd2_history_has_renames_setting_changes_and_deleted_jobs(con, seeded):
    story = seeded[1]
    renamed = q(con, "SELECT workspace_id, job_id FROM lakeflow.jobs GROUP BY ALL "
                     "HAVING count(DISTINCT name) > 1")  # fmt: skip
    assert {(j.workspace_id, j.job_id) for j, _ in story.renamed} == set(renamed)
    latest = dict(
        ((r[0], r[1]), r[2:]) for r in q(con, """
        SELECT workspace_id, job_id, name, delete_time FROM lakeflow.jobs
        QUALIFY row_number() OVER (PARTITION BY workspace_id, job_id ORDER BY change_time DESC) = 1""")
    )  # fmt: skip
    for job, old in story.renamed:
        assert latest[(job.workspace_id, job.job_id)][0] == job.name != old
    assert story.deleted
    for job in story.deleted:
        deleted_at = latest[(job.workspace_id, job.job_id)][1]
        assert deleted_at is not None
        after = q(con, "SELECT count(*) FROM lakeflow.job_run_timeline WHERE workspace_id = $w "
                       "AND job_id = $j AND period_start_time > $t",
                  {"w": job.workspace_id, "j": job.job_id, "t": deleted_at})  # fmt: skip
        assert after == [(0,)]
    owner_changes = q(con, "SELECT count(*) FROM (SELECT workspace_id, job_id FROM lakeflow.jobs "
                           "GROUP BY ALL HAVING count(DISTINCT tags['owner']) > 1)")[0][0]  # fmt: skip
    assert owner_changes > 0
    task_changes = q(con, "SELECT count(*) FROM lakeflow.job_tasks WHERE delete_time IS NOT NULL")
    assert task_changes[0][0] > 0


RUN_HOURS = """
    SELECT j.name, j.trigger_type, r.run_id, r.state, r.hours
    FROM (SELECT workspace_id, job_id, run_id,
                 max_by(result_state, period_end_time) FILTER (result_state IS NOT NULL) AS state,
                 sum(epoch(period_end_time) - epoch(period_start_time)) / 3600 AS hours
          FROM lakeflow.job_run_timeline GROUP BY ALL) r
    JOIN (SELECT * FROM lakeflow.jobs QUALIFY row_number() OVER
            (PARTITION BY workspace_id, job_id ORDER BY change_time DESC) = 1) j
      USING (workspace_id, job_id)"""


def test_runs_take_minutes_to_a_few_hours_except_the_few_that_hung(con, seeded):
    story = seeded[1]
    runs = q(con, RUN_HOURS)
    hung = {h.run_id for h in story.hung}
    assert len(hung) == 1
    long = {run_id for _, _, run_id, _, hours in runs if hours > 8}
    assert long == hung, "only the hung run goes on for more than eight hours"
    for h in story.hung:
        ((state, hours),) = [(st, hr) for _, _, rid, st, hr in runs if rid == h.run_id]
        assert state == "CANCELLED" and 16 <= hours <= 26
        assert (h.end - h.start).total_seconds() / 3600 == pytest.approx(hours, abs=0.01)
    scheduled = [hours for _, trig, rid, _, hours in runs if trig == "CRON" and rid not in hung]
    assert statistics.median(scheduled) < 1.5 and max(scheduled) < 6


def test_continuous_jobs_restart_every_few_hours_instead_of_running_for_days(con):
    runs = q(con, RUN_HOURS + " WHERE j.trigger_type = 'CONTINUOUS'")
    by_job: dict[str, list[float]] = {}
    for name, _, _, state, hours in runs:
        if state == "SUCCEEDED":
            by_job.setdefault(name, []).append(hours)
    assert {"clickstream_sessionize", "orders_cdc_stream"} <= set(by_job)
    for name, hours in by_job.items():
        ordered = sorted(hours)
        p90 = ordered[int(0.9 * (len(ordered) - 1))]
        assert statistics.median(hours) > 1.5 and p90 < 7, name
        assert p90 < 1.15 * statistics.median(hours), f"{name}: a stream stops on a timer"
    # One run at a time: the next run starts a minute or a few after the last one ended.
    gaps = q(con, """
        SELECT min(gap), max(gap) FROM (
          SELECT first_start - lag(last_end) OVER (PARTITION BY workspace_id, job_id
                                                   ORDER BY first_start) AS gap
          FROM (SELECT workspace_id, job_id, run_id, epoch(min(period_start_time)) AS first_start,
                       epoch(max(period_end_time)) AS last_end
                FROM lakeflow.job_run_timeline WHERE trigger_type = 'CONTINUOUS'
                GROUP BY ALL))""")[0]  # fmt: skip
    assert gaps[0] > 0 and gaps[1] < 20 * 60


def test_no_stream_is_running_past_its_p90_at_the_end_but_the_designed_long_runner_is(con):
    # As the bot reads it: `/jobs running` flags a run whose elapsed time is past the job's p90.
    running = {r["name"]: r for r in DuckDBWarehouse(con).run("runs_in_progress", {"now": END})}
    streams = {
        n for (n,) in q(con, "SELECT name FROM lakeflow.jobs WHERE trigger_type = 'CONTINUOUS'")
    }
    assert {"clickstream_sessionize", "orders_cdc_stream"} <= set(running)
    for name in streams & set(running):
        assert not running[name]["over_p90"] and running[name]["p90_seconds"] < 7 * 3600, name
    assert running["weekly_finance_rollup"]["over_p90"]


def test_jobs_have_schedules_tags_users_and_tasks(con):
    kinds = q(con, """
        SELECT count_if(trigger.schedule.quartz_cron_expression LIKE '0 % % * * ?'
                        AND trigger.schedule.quartz_cron_expression NOT LIKE '0 % * * * ?'),
               count_if(trigger.schedule.quartz_cron_expression LIKE '0 % * * * ?'),
               count_if(trigger.schedule.quartz_cron_expression LIKE '0 % % ? * ___'),
               count_if(trigger_type = 'CONTINUOUS' AND trigger.continuous.enabled),
               count_if(tags['team'] IS NULL OR tags['owner'] NOT LIKE '%@%'),
               count_if(creator_user_name NOT LIKE '%@%')
        FROM lakeflow.jobs""")[0]  # fmt: skip
    daily, hourly, weekly, continuous, untagged, no_creator = kinds
    assert daily > 0 and hourly > 0 and weekly > 0 and continuous > 0
    assert untagged == 0 and no_creator == 0
    multi = q(con, "SELECT count(*) FROM (SELECT job_run_id FROM lakeflow.job_task_run_timeline "
                   "GROUP BY workspace_id, job_run_id HAVING count(DISTINCT task_key) >= 3)")[0][0]  # fmt: skip
    assert multi > 0
    orphans = q(con, """
        SELECT count(*) FROM lakeflow.job_task_run_timeline t
        WHERE NOT EXISTS (SELECT 1 FROM lakeflow.job_run_timeline r
                          WHERE r.workspace_id = t.workspace_id AND r.job_id = t.job_id
                            AND r.run_id = t.job_run_id)""")  # fmt: skip
    assert orphans == [(0,)]
    names = {r[0] for r in q(con, "SELECT DISTINCT name FROM lakeflow.jobs")}
    assert {"nightly_sales", "nightly_etl", "hourly_events_ingest", "weekly_finance_rollup",
            "ml_feature_refresh", "customer_360_build"} <= names  # fmt: skip


def test_retractions_negate_an_original_and_come_with_a_restatement(con, seeded):
    pairs = q(con, """
        SELECT r.record_id,
               (SELECT count(*) FROM billing.usage o
                 WHERE o.record_type = 'ORIGINAL' AND o.workspace_id = r.workspace_id
                   AND o.sku_name = r.sku_name AND o.usage_start_time = r.usage_start_time
                   AND o.usage_metadata = r.usage_metadata
                   AND o.usage_quantity = -r.usage_quantity
                   AND o.ingestion_date < r.ingestion_date),
               (SELECT count(*) FROM billing.usage s
                 WHERE s.record_type = 'RESTATEMENT' AND s.workspace_id = r.workspace_id
                   AND s.usage_start_time = r.usage_start_time
                   AND s.usage_metadata = r.usage_metadata AND s.usage_quantity > 0)
        FROM billing.usage r WHERE r.record_type = 'RETRACTION'""")  # fmt: skip
    assert len(pairs) == seeded[1].corrections > 0
    assert all(orig >= 1 and restated >= 1 for _, orig, restated in pairs)


def test_all_purpose_usage_has_no_job_ids_and_their_tasks_name_the_cluster(con, seeded):
    story = seeded[1]
    ap = q(con, """
        SELECT count(*), count(usage_metadata.job_id), count(usage_metadata.job_run_id),
               count(usage_metadata.cluster_id)
        FROM billing.usage WHERE billing_origin_product = 'ALL_PURPOSE'""")[0]  # fmt: skip
    assert ap[0] > 0 and ap[1] == 0 and ap[2] == 0 and ap[3] == ap[0]
    assert story.all_purpose_jobs
    for job in story.all_purpose_jobs:
        sources = q(con, """
            SELECT DISTINCT c.cluster_source
            FROM lakeflow.job_task_run_timeline t, unnest(t.compute_ids) AS u(cid)
            JOIN compute.clusters c ON c.workspace_id = t.workspace_id AND c.cluster_id = u.cid
            WHERE t.workspace_id = $w AND t.job_id = $j""",
            {"w": job.workspace_id, "j": job.job_id})  # fmt: skip
        assert sources and {s for (s,) in sources} <= {"UI", "API"}
        billed = q(con, "SELECT count(*) FROM billing.usage WHERE workspace_id = $w "
                        "AND usage_metadata.job_id = $j",
                   {"w": job.workspace_id, "j": job.job_id})  # fmt: skip
        assert billed == [(0,)]
    serverless = q(con, "SELECT count(*), count_if(usage_metadata.cluster_id IS NULL AND "
                        "product_features.is_serverless AND usage_metadata.job_id IS NOT NULL) "
                        "FROM billing.usage WHERE sku_name LIKE '%SERVERLESS%'")[0]  # fmt: skip
    assert serverless[0] > 0 and serverless[0] == serverless[1]


def test_the_cost_spike_job_costs_far_more_on_its_last_day(con, seeded):
    spike = seeded[1].cost_spike
    assert spike is not None and spike.job.name == "ml_feature_refresh"
    daily = q(con, """
        SELECT u.usage_date, sum(u.usage_quantity * p.pricing.effective_list."default")
        FROM billing.usage u JOIN billing.list_prices p
          ON u.sku_name = p.sku_name AND u.cloud = p.cloud
         AND u.usage_start_time >= p.price_start_time
         AND (p.price_end_time IS NULL OR u.usage_end_time <= p.price_end_time)
        WHERE u.workspace_id = $w AND u.usage_metadata.job_id = $j
        GROUP BY 1 ORDER BY 1""", {"w": spike.job.workspace_id, "j": spike.job.job_id})  # fmt: skip
    assert daily[-1][0] == spike.day
    usual = statistics.median(float(c) for _, c in daily[:-1])
    assert float(daily[-1][1]) > 4 * usual


def test_designed_failure_streaks_are_the_latest_runs(con, seeded):
    designed = seeded[1].failing_designed()
    assert {f.job.name for f in designed} >= {"customer_360_build", "hourly_events_ingest"}
    for f in designed:
        finals = q(con, """
            SELECT arg_max(result_state, period_end_time) FROM lakeflow.job_run_timeline
            WHERE workspace_id = $w AND job_id = $j AND result_state IS NOT NULL
            GROUP BY run_id ORDER BY min(period_start_time) DESC LIMIT $n""",
            {"w": f.job.workspace_id, "j": f.job.job_id, "n": f.streak + 1})  # fmt: skip
        states = [s for (s,) in finals]
        assert all(s in FAILURE for s in states[: f.streak])
        assert states[f.streak] not in FAILURE


def test_nightly_sales_is_late_on_the_story_days_only(con, seeded):
    late = next(lj for lj in seeded[1].late if lj.job.name == "nightly_sales")
    assert len(late.late_dates) >= 2
    ends = q(con, """
        SELECT CAST(max(period_end_time) AS DATE), strftime(max(period_end_time), '%H:%M')
        FROM lakeflow.job_run_timeline
        WHERE workspace_id = $w AND job_id = $j AND result_state = 'SUCCEEDED'
        GROUP BY run_id""", {"w": late.job.workspace_id, "j": late.job.job_id})  # fmt: skip
    on_late = [hhmm for day, hhmm in ends if day in late.late_dates]
    others = [hhmm for day, hhmm in ends if day not in late.late_dates]
    assert len(on_late) == len(late.late_dates)
    assert all(hhmm > "06:00" for hhmm in on_late)
    assert sum(hhmm <= late.usual_end <= "05:45" for hhmm in others) >= 0.9 * len(others)


def test_idle_clusters_are_mostly_idle(con, seeded):
    idle = {c.cluster_id for c in seeded[1].idle_clusters}
    cpu = dict(q(con, "SELECT cluster_id, avg(cpu_user_percent) FROM compute.node_timeline "
                      "GROUP BY 1"))  # fmt: skip
    assert idle and idle <= set(cpu)
    assert all(cpu[c] < 5 for c in idle)
    assert any(v > 5 for c, v in cpu.items() if c not in idle)


def test_workspaces_and_node_types(con, seeded):
    ws = q(con, "SELECT workspace_id, workspace_name, workspace_url FROM access.workspaces_latest")
    assert len(ws) == 3
    for wid, name, url in ws:
        assert (
            name and url.startswith(f"https://adb-{wid}.") and url.endswith(".azuredatabricks.net")
        )
    used = q(con, "SELECT count(*) FROM (SELECT DISTINCT usage_metadata.node_type AS n "
                  "FROM billing.usage WHERE n IS NOT NULL) u "
                  "ANTI JOIN compute.node_types t ON t.node_type = u.n")  # fmt: skip
    assert used == [(0,)]


def test_seed_command_prints_the_story(tmp_path, capsys):
    db = str(tmp_path / "s.duckdb")
    assert seed_command(db=db, jobs=20, days=4, workspaces=2, seed=7, end="2026-11-25T09:00Z") == 0
    out = capsys.readouterr().out
    assert "system.lakeflow.job_run_timeline" in out
    assert "failing: hourly_events_ingest" in out
    assert "cost spike: ml_feature_refresh" in out


@pytest.mark.parametrize(
    "kwargs, word",
    [({"end": "yesterday"}, "--end"), ({"jobs": 0}, "--jobs"), ({"days": 0}, "--days")],
)
def test_seed_command_rejects_bad_input(tmp_path, kwargs, word):
    args = {"db": str(tmp_path / "s.duckdb"), "jobs": 10, "days": 2, "workspaces": 1, "seed": 1,
            "end": "2026-11-25T09:00Z"} | kwargs  # fmt: skip
    with pytest.raises(UserError, match=word):
        seed_command(**args)


def test_progress_is_reported_until_all_jobs_are_done():
    calls: list[tuple[int, int]] = []
    generate(None, jobs=12, days=2, workspaces=1, seed=5, end=END,
             progress=lambda done, total: calls.append((done, total)))  # fmt: skip
    assert calls and calls[-1] == (12, 12)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
