"""/jobs failing on the demo account: each Rerun confirm names the failed tasks of the run its
button repairs, as the demo's task timeline has them (each task's final row)."""

from __future__ import annotations

import duckdb

from bot.actions import JOBS_RERUN, decode

_FINAL_FAILED = """
SELECT task_key FROM lakeflow.job_task_run_timeline
WHERE workspace_id = ? AND job_run_id = ? AND result_state IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY task_key ORDER BY period_end_time DESC) = 1
  AND result_state IN ('ERROR', 'FAILED', 'TIMED_OUT')
ORDER BY task_key
"""


def test_each_rerun_confirm_names_the_failed_tasks_of_its_run(demo, demo_service):
    answer = demo_service().answer_text("failing 24h", user_id="U1")
    buttons = [b["accessory"] for b in answer.blocks if "accessory" in b]
    assert buttons
    con = duckdb.connect(demo[0], read_only=True)
    try:
        for button in buttons:
            value = decode(button["value"], JOBS_RERUN)
            ids = [str(value.workspace_id), str(value.run_id)]
            keys = [k for (k,) in con.execute(_FINAL_FAILED, ids).fetchall()]
            assert keys, f"run {value.run_id} has no failed task in the demo's task timeline"
            tasks = "failed task" + ("s " if len(keys) != 1 else " ") + ", ".join(keys)
            assert button["confirm"]["text"]["text"].endswith(f": {tasks} run again.")
    finally:
        con.close()
