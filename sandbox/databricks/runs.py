"""RunBook: the runs of one workspace, their lifecycle (start, task outcomes, retries, finish,
repair, cancel) and the indexes runs/list reads.

Indexes are sorted lists of `(start_time, run_id)` keys (all runs, per job, active only), so a
runs/list page costs O(log n + page) whatever the number of runs: the watcher's calls per poll
must stay flat from 50 to 5,000 jobs. Callers hold the world's lock.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Iterator

from sandbox.databricks.errors import ApiError, invalid, no_run
from sandbox.databricks.model import (
    FAILED_RESULTS,
    Job,
    Outcome,
    RepairEntry,
    Run,
    TaskAttempt,
    outcome,
)

Key = tuple[int, int]  # (start_time ms, run_id)


class RunBook:
    def __init__(self, workspace_id: int, next_id: Callable[[], int]) -> None:
        self.workspace_id = workspace_id
        self._next_id = next_id
        self.runs: dict[int, Run] = {}
        self.attempts: dict[int, tuple[Run, TaskAttempt]] = {}  # task run_id -> attempt
        self._all: list[Key] = []
        self._by_job: dict[int, list[Key]] = {}
        self._active: list[Key] = []
        self._tokens: dict[str, int] = {}  # run-now idempotency_token -> run_id

    # -- queries -------------------------------------------------------------------------
    def get(self, run_id: int) -> Run:
        run = self.runs.get(run_id)
        if run is None:
            raise no_run(run_id)
        return run

    def by_token(self, token: str) -> Run | None:
        run_id = self._tokens.get(token)
        return None if run_id is None else self.runs[run_id]

    def active_count(self, job_id: int) -> int:
        return sum(1 for r in self._active_runs() if r.job_id == job_id and r.state != "QUEUED")

    def _active_runs(self) -> Iterator[Run]:
        return (self.runs[k[1]] for k in self._active)

    def page(
        self,
        *,
        job_id: int | None,
        active_only: bool,
        completed_only: bool,
        start_from: int | None,
        start_to: int | None,
        run_type: str | None,
        after: Key | None,
        before: Key | None,
        limit: int,
        visible: Callable[[Run], bool] | None = None,
    ) -> tuple[list[Run], bool, bool]:
        """One page, newest start first; returns (runs, more older, more newer).

        Order is start_time descending (then run_id): the `JobsExt.list_runs` docstring's
        ordering, and the only one an index on start time can serve without a scan. The
        generated docstring says "end time, falling back to start time"; the checked
        reference (A14) tells clients to sort themselves, so either is honest.
        """
        keys = self._active if active_only else self._all
        if job_id is not None and not active_only:
            keys = self._by_job.get(job_id, [])
        lo = 0 if start_from is None else bisect.bisect_left(keys, (start_from, -1))
        hi = len(keys) if start_to is None else bisect.bisect_right(keys, (start_to, 2**63))

        def keep(run: Run) -> bool:
            return (
                (job_id is None or run.job_id == job_id)
                and not (completed_only and run.active)
                and (run_type is None or run.run_type == run_type)
                and (visible is None or visible(run))
            )

        if before is not None:  # a prev_page_token: walk towards newer runs
            start = max(lo, bisect.bisect_right(keys, before))
            found = list(self._walk(keys, range(start, hi), keep, limit + 1))
            newer = len(found) > limit
            found = found[:limit]
            found.reverse()
            return found, True, newer
        end = hi if after is None else min(hi, bisect.bisect_left(keys, after))
        found = list(self._walk(keys, range(end - 1, lo - 1, -1), keep, limit + 1))
        return found[:limit], len(found) > limit, after is not None

    def _walk(
        self, keys: list[Key], positions: range, keep: Callable[[Run], bool], want: int
    ) -> Iterator[Run]:
        got = 0
        for i in positions:
            run = self.runs[keys[i][1]]
            if keep(run):
                yield run
                got += 1
                if got >= want:
                    return

    # -- lifecycle -----------------------------------------------------------------------
    def start(
        self,
        job: Job,
        *,
        trigger: str,
        now: int,
        creator: str,
        params: dict[str, str] | None = None,
        token: str | None = None,
        only: Iterable[str] | None = None,
    ) -> Run:
        queued = self.active_count(job.job_id) >= job.max_concurrent_runs
        run = Run(
            workspace_id=self.workspace_id,
            run_id=self._next_id(),
            job_id=job.job_id,
            run_name=job.name,
            trigger=trigger,
            creator_user_name=creator,
            start_time=now,
            state="QUEUED" if queued else "RUNNING",
            queue_reason="MAX_CONCURRENT_RUNS_REACHED" if queued else None,
            job_parameters=dict(params or {}),
            idempotency_token=token,
        )
        wanted = set(only) if only else None
        for task in job.tasks:
            if wanted is not None and task.task_key not in wanted:
                continue
            attempt_id = self._next_id()
            attempt = TaskAttempt(
                task.task_key,
                attempt_id,
                0,
                [d for d in task.depends_on if not wanted or d in wanted],
                attempt_id,
            )
            run.tasks[task.task_key] = [attempt]
            self.attempts[attempt_id] = (run, attempt)
        if not run.tasks:
            raise invalid(f"Job {job.job_id} has no tasks to run.")
        run.history.append(
            RepairEntry("ORIGINAL", self._next_id(), now, [a.run_id for a in run.latest()])
        )
        self.runs[run.run_id] = run
        key = (run.start_time, run.run_id)
        bisect.insort(self._all, key)
        bisect.insort(self._by_job.setdefault(job.job_id, []), key)
        bisect.insort(self._active, key)
        if token is not None:
            self._tokens[token] = run.run_id
        if not queued:
            self._begin(run, now)
        return run

    def _begin(self, run: Run, now: int) -> None:
        """Leave the queue: the run starts and its root tasks start with it."""
        if run.state == "QUEUED":
            run.queue_duration = now - run.start_time
        run.state = "RUNNING"
        run.queue_reason = None
        self._advance(run, now)

    def _advance(self, run: Run, now: int) -> None:
        """Start waiting tasks whose upstream all succeeded; end those below a failure."""
        latest = {a.task_key: a for a in run.latest()}
        changed = True
        while changed:  # a failure cascades down the DAG, so repeat until nothing moves
            changed = False
            for attempt in latest.values():
                if attempt.state not in ("PENDING", "BLOCKED"):
                    continue
                ups = [latest[d] for d in attempt.depends_on if d in latest]
                bad = [u for u in ups if u.outcome and u.outcome.result_state != "SUCCESS"]
                if bad:
                    cancelled = all(u.outcome and "CANCELED" in u.outcome.result_state for u in bad)
                    result = "UPSTREAM_CANCELED" if cancelled else "UPSTREAM_FAILED"
                    self._end_attempt(
                        attempt, outcome(result, "Upstream task did not succeed."), now
                    )
                    changed = True
                elif all(u.state == "TERMINATED" for u in ups):
                    attempt.state = "RUNNING"
                    attempt.start_time = now
                else:
                    attempt.state = "BLOCKED"

    @staticmethod
    def _end_attempt(attempt: TaskAttempt, how: Outcome, now: int) -> None:
        attempt.state = "TERMINATED"
        attempt.outcome = how
        attempt.end_time = now
        if attempt.start_time == 0:  # never started (skipped below a failure)
            attempt.start_time = now

    def task_outcome(
        self,
        run: Run,
        task_key: str,
        how: Outcome,
        now: int,
        *,
        retry: bool = False,
        error: str | None = None,
        error_trace: str | None = None,
        notebook_result: str | None = None,
        logs: str | None = None,
    ) -> TaskAttempt:
        """End the latest attempt of a task; with `retry`, start its next attempt at once."""
        attempt = self._latest(run, task_key)
        if attempt.state == "TERMINATED":
            raise ValueError(f"task {task_key} of run {run.run_id} has already ended")
        attempt.error, attempt.error_trace = error, error_trace
        attempt.notebook_result, attempt.logs = notebook_result, logs
        if attempt.state in ("PENDING", "BLOCKED"):
            attempt.start_time = now
        self._end_attempt(attempt, how, now)
        if retry:
            return self.retry_task(run, task_key, now)
        self._advance(run, now)
        if all(a.state == "TERMINATED" for a in run.latest()):
            self.finish(run, None, now)
        return attempt

    def retry_task(self, run: Run, task_key: str, now: int) -> TaskAttempt:
        """A new attempt of an ended task (the task's own retry policy), inside an active run."""
        if not run.active:
            raise ValueError(f"run {run.run_id} has ended; repair it instead")
        old = self._latest(run, task_key)
        if old.state != "TERMINATED":
            raise ValueError(f"task {task_key} is still {old.state}")
        new = self._new_attempt(run, old, None)
        new.state, new.start_time = "RUNNING", now
        run.history[-1].task_run_ids.append(new.run_id)
        return new

    def _new_attempt(self, run: Run, old: TaskAttempt, repair_id: int | None) -> TaskAttempt:
        new = TaskAttempt(
            old.task_key,
            self._next_id(),
            old.attempt_number + 1,
            list(old.depends_on),
            run.tasks[old.task_key][0].run_id,
            repair_id=repair_id,
        )
        run.tasks[old.task_key].append(new)
        self.attempts[new.run_id] = (run, new)
        return new

    def _latest(self, run: Run, task_key: str) -> TaskAttempt:
        if task_key not in run.tasks:
            raise KeyError(f"run {run.run_id} has no task {task_key!r}")
        return run.tasks[task_key][-1]

    def finish(self, run: Run, how: Outcome | None, now: int) -> Run:
        """End the run. Tasks still going take `how`'s result (or SUCCESS); the run's result
        is `how` or, when None, derived from its tasks as Databricks does."""
        if not run.active:
            raise ValueError(f"run {run.run_id} has already ended")
        if run.state == "QUEUED":
            self._begin(run, now)
        task_how = how or outcome("SUCCESS")
        while any(a.state != "TERMINATED" for a in run.latest()):
            going = [a for a in run.latest() if a.state == "RUNNING"]
            for attempt in going:
                self._end_attempt(
                    attempt,
                    outcome(task_how.result_state, task_how.message, task_how.code, task_how.type),
                    now,
                )
            self._advance(run, now)  # tasks below a failure end as UPSTREAM_*; others start
            stuck = not going and not any(a.state == "RUNNING" for a in run.latest())
            if stuck and any(a.state != "TERMINATED" for a in run.latest()):
                raise ValueError(f"run {run.run_id}: task graph stuck (a dependency cycle?)")
        run.outcome = how or self._derive(run)
        run.state = "TERMINATED"
        run.end_time = now
        entry = run.history[-1]
        entry.end_time, entry.outcome = now, run.outcome
        self._active.remove((run.start_time, run.run_id))
        self._promote(run.job_id, now)
        return run

    def _promote(self, job_id: int, now: int) -> None:
        """A slot freed: the oldest queued run of the job starts (queueing enabled)."""
        for run in self._active_runs():
            if run.job_id == job_id and run.state == "QUEUED":
                self._begin(run, now)
                return

    @staticmethod
    def _derive(run: Run) -> Outcome:
        results = {a.task_key: a.outcome.result_state for a in run.latest() if a.outcome}
        for wanted in ("INTERNAL_ERROR", "FAILED", "TIMEDOUT", "UPSTREAM_FAILED", "CANCELED"):
            keys = [k for k, r in results.items() if r == wanted]
            if keys:
                result = "FAILED" if wanted in ("UPSTREAM_FAILED", "INTERNAL_ERROR") else wanted
                src = next(a for a in run.latest() if a.task_key == keys[0])
                detail = src.outcome.message if src.outcome else ""
                message = f"Task {keys[0]} failed with message: {detail}".strip()
                if wanted == "INTERNAL_ERROR":
                    return outcome(result, message, "INTERNAL_ERROR", "INTERNAL_ERROR")
                return outcome(result, message)
        return outcome("SUCCESS", "")

    def cancel(self, run: Run, now: int) -> None:
        """Cancel: a no-op on an ended run, as on Databricks."""
        if run.active:
            self.finish(run, outcome("CANCELED", "Run cancelled."), now)

    def delete(self, run: Run) -> None:
        """runs/delete: a non-active run and its task runs are gone (runs/get: does not exist)."""
        if run.active:
            raise ApiError(
                400,
                "INVALID_STATE",
                f"Run {run.run_id} is in state {run.state}; only inactive runs can be deleted.",
            )
        del self.runs[run.run_id]
        key = (run.start_time, run.run_id)
        self._all.pop(bisect.bisect_left(self._all, key))
        by_job = self._by_job.get(run.job_id, [])
        if key in by_job:
            by_job.pop(bisect.bisect_left(by_job, key))
        for task_run_id in [k for k, (r, _) in self.attempts.items() if r is run]:
            del self.attempts[task_run_id]
        if run.idempotency_token is not None:
            self._tokens.pop(run.idempotency_token, None)

    # -- repair --------------------------------------------------------------------------
    def repair(
        self,
        run: Run,
        *,
        rerun_tasks: list[str] | None,
        rerun_all_failed: bool,
        rerun_dependents: bool,
        latest_repair_id: int | None,
        params: dict[str, str] | None,
        now: int,
    ) -> int:
        """Validate and start a repair as runs/repair does; returns the repair_id."""
        if run.active:
            raise ApiError(
                400,
                "INVALID_STATE",
                f"Run {run.run_id} is in state {run.state}; only terminated runs can be repaired.",
            )
        if rerun_tasks and rerun_all_failed:
            raise invalid("Only one of rerun_tasks and rerun_all_failed_tasks can be specified.")
        if not rerun_tasks and not rerun_all_failed:
            raise invalid("One of rerun_tasks or rerun_all_failed_tasks must be specified.")
        repairs = [h for h in run.history if h.type == "REPAIR"]
        if repairs and latest_repair_id is None:
            raise invalid(
                f"Run {run.run_id} has been repaired before: latest_repair_id must be set "
                f"(the latest repair is {repairs[-1].id})."
            )
        if latest_repair_id is not None and (not repairs or repairs[-1].id != latest_repair_id):
            last = repairs[-1].id if repairs else None
            raise invalid(f"latest_repair_id {latest_repair_id} is not the latest repair ({last}).")
        latest = {a.task_key: a for a in run.latest()}
        if rerun_tasks:
            unknown = [k for k in rerun_tasks if k not in latest]
            if unknown:
                raise invalid(f"Task keys {unknown} are not part of run {run.run_id}.")
            chosen = list(dict.fromkeys(rerun_tasks))
        else:
            chosen = [
                k
                for k, a in latest.items()
                if a.outcome and a.outcome.result_state in FAILED_RESULTS
            ]
            if not chosen:
                raise invalid(f"Run {run.run_id} has no failed tasks to repair.")
        if rerun_dependents:
            chosen = self._with_dependents(latest, chosen)
        repair_id = self._next_id()
        fresh = [self._new_attempt(run, latest[k], repair_id) for k in chosen]
        for attempt in fresh:  # the rest keep their outcome; the new attempts wait for upstream
            attempt.state = "PENDING"
        run.history.append(RepairEntry("REPAIR", repair_id, now, [a.run_id for a in fresh]))
        if params:
            run.job_parameters.update(params)
        run.state, run.outcome, run.end_time = "RUNNING", None, 0
        bisect.insort(self._active, (run.start_time, run.run_id))
        self._advance(run, now)
        return repair_id

    @staticmethod
    def _with_dependents(latest: dict[str, TaskAttempt], chosen: list[str]) -> list[str]:
        picked = list(chosen)
        grew = True
        while grew:
            grew = False
            for key, attempt in latest.items():
                if key not in picked and any(d in picked for d in attempt.depends_on):
                    picked.append(key)
                    grew = True
        return [k for k in latest if k in picked]  # keep the job's task order
