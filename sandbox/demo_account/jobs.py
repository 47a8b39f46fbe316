"""SCD2 rows for ``lakeflow.jobs`` and ``lakeflow.job_tasks``: one full row per change (creation,
rename, settings change, pause, deletion), the way the system tables record history."""

from __future__ import annotations

from sandbox.demo_account.plan import JobSpec
from sandbox.demo_account.rows import JOB_TASKS, JOBS, Batch

_DOW = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")


def trigger(job: JobSpec) -> tuple[dict | None, str]:
    if job.kind == "continuous":
        return {"continuous": {"enabled": True}}, "CONTINUOUS"
    if job.kind == "hourly":
        cron = f"0 {job.minute} * * * ?"
    elif job.kind == "weekly":
        cron = f"0 {job.minute} {job.hour} ? * {_DOW[job.weekday]}"
    else:
        cron = f"0 {job.minute} {job.hour} * * ?"
    # jobs.trigger_type values are (inferred) in reference/databricks.md 1.10: CRON, CONTINUOUS.
    return {"schedule": {"quartz_cron_expression": cron, "timezone_id": "UTC"}}, "CRON"


def job_rows(job: JobSpec, batch: Batch) -> None:
    trig, trig_type = trigger(job)
    events = sorted(
        {t for t in (job.created, job.renamed, job.changed, job.paused, job.deleted) if t}
    )
    rows = batch.rows[JOBS]
    for t in events:
        changed = job.changed is not None and t >= job.changed
        owner = job.new_owner if changed else job.owner
        timeout = job.timeout_s * 2 if changed and job.timeout_s else job.timeout_s
        health = None
        if job.well_known and job.kind != "continuous":
            health = [{"metric": "RUN_DURATION_SECONDS", "operator": "GREATER_THAN",
                       "value": int(job.median_s * 2)}]  # fmt: skip
        rows.append((
            job.ws.id, job.job_id, job.name_at(t), f"{job.team} pipeline: {job.name_at(t)}",
            job.creator_id, {"team": job.team, "owner": owner}, t,
            job.deleted if t == job.deleted else None, job.run_as, trig, trig_type,
            job.run_as_name, job.creator, job.paused is not None and t >= job.paused, timeout,
            health, job.created,
        ))  # fmt: skip
    task_rows = batch.rows[JOB_TASKS]
    for task in job.tasks:
        born = task.added or job.created
        task_rows.append((job.ws.id, job.job_id, task.key, list(task.depends_on), born, None, 0))
        gone = task.removed or job.deleted
        if gone is not None:
            task_rows.append((job.ws.id, job.job_id, task.key, list(task.depends_on), gone,
                              gone, 0))  # fmt: skip
