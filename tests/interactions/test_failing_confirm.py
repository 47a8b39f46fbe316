"""The Rerun button on a `/jobs failing` row: its confirm dialog names the job, the run and,
when the answer knows them, the tasks that will run again — within Slack's 300 characters
for a confirm's text, however many or long the task names."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from bot.render import Renderer
from bot.service.views import FailingJobView
from tests.golden.cases import cases


@dataclass(frozen=True)
class _WithTasks(FailingJobView):
    """A failing row whose answer carries the failed task keys (the field the view gets when
    the query or the Jobs API provides them)."""

    failed_tasks: tuple[str, ...] = ()


def _confirms(tasks: tuple[str, ...] | None) -> list[dict[str, Any]]:
    """The confirm dialogs of the golden `/jobs failing` answer, its rows given `tasks`."""
    template, data = cases()["failing"]
    if tasks is not None:
        data = {
            **data,
            "jobs": tuple(
                _WithTasks(**{f.name: getattr(j, f.name) for f in fields(j)}, failed_tasks=tasks)
                for j in data["jobs"]
            ),
        }
    message = Renderer().render(template, **data)
    return [b["accessory"]["confirm"] for b in message["blocks"] if "accessory" in b]


def test_the_confirm_names_the_failed_tasks() -> None:
    first = _confirms(("load_orders", "publish"))[0]
    text = first["text"]["text"]
    assert (
        text == "Repair run 9000 of *nightly_sales*: failed tasks load_orders, publish run again."
    )


def test_one_task_is_named_in_the_singular_and_markup_in_it_is_escaped() -> None:
    text = _confirms(("<!channel>",))[0]["text"]["text"]
    assert "failed task &lt;!channel&gt; run again" in text and "<!channel>" not in text


def test_many_long_task_names_keep_the_confirm_within_slacks_limit() -> None:
    tasks = tuple(f"task_{i:02d}_" + "x" * 60 for i in range(40))
    for confirm in _confirms(tasks):
        text = confirm["text"]["text"]
        assert len(text) <= 300 and "task_00_" in text and text.endswith("run again.")


def test_without_task_names_the_confirm_says_its_failed_tasks() -> None:
    text = _confirms(None)[0]["text"]["text"]
    assert text == "Repair run 9000 of *nightly_sales*: its failed tasks run again."
