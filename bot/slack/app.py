"""The Bolt app: `build_app()` makes it, `register()` lists every listener.

Every listener acks first (DESIGN.md rule 6) and does the slow work afterwards, answering
through the response_url: Slack shows the user an error if the ack takes more than 3 s, and
a cold warehouse easily takes longer than that. The work goes to a bounded queue with its own
threads (bot/slack/workqueue.py), never onto Bolt's 5 listener threads, so no ack waits for
someone else's answer; a full queue, a person with two questions in flight, or a command over
500 characters is answered at once instead.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from slack_bolt import Ack, App, BoltResponse, Respond
from slack_sdk import WebClient

from bot import actions
from bot.errors import UserError
from bot.grammar import clean_slack_text, strip_controls
from bot.render import Renderer
from bot.render.limits import cut_items
from bot.service.clicks import Click, Reply
from bot.slack import errors
from bot.slack.response_url import WorkingNotice, deliver
from bot.slack.workqueue import Refused, WorkQueue

log = logging.getLogger(__name__)

# After this long without an answer, the user is told the question is being worked on, so a
# slow warehouse does not look like a dead bot.
WORKING_AFTER_SECONDS = 1.5
# The longest command text read. Real questions are a job name and a window; a 10 kB "name"
# cost seconds of fuzzy matching per question. Also what keeps the Share button's value (the
# command, JSON-escaped: at most twice as long) far under Slack's 2,000 characters.
MAX_COMMAND_CHARS = 500
# How much of what a user typed goes into one log line.
MAX_LOGGED_CHARS = 200

_REFUSALS = {
    Refused.BUSY: ":hourglass: I'm busy answering a lot of questions right now. "
    "Try again in a minute.",
    Refused.USER_BUSY: ":hourglass: I'm still working on your previous questions. "
    "Ask again when they are answered.",
    Refused.CLOSED: ":wave: I'm restarting. Try again in a minute.",
}


class AnswerLike(Protocol):
    @property
    def text(self) -> str: ...

    @property
    def blocks(self) -> list[dict[str, Any]]: ...

    @property
    def asked_at(self) -> datetime | None: ...


class Answerer(Protocol):
    """What the app needs from the service: an answer for a `/jobs` text."""

    def answer_text(
        self,
        text: str,
        *,
        user_id: str,
        channel_id: str | None = None,
        at: datetime | None = None,
    ) -> AnswerLike: ...


class ButtonHandler(Protocol):
    """What the app needs from the button use cases (bot.service.interactions.Interactions):
    one call per button, returning the ephemeral for the person who clicked, if any."""

    def acknowledge(self, click: Click) -> Reply | None: ...

    def unacknowledge(self, click: Click) -> Reply | None: ...

    def snooze(self, click: Click) -> Reply | None: ...

    def rerun(self, click: Click) -> Reply | None: ...

    def feedback(self, click: Click) -> Reply | None: ...

    def unmute_click(self, click: Click) -> Reply | None: ...


@dataclass(frozen=True)
class AppDeps:
    service: Answerer
    command: str = "/jobs"
    working_after: float = WORKING_AFTER_SECONDS
    renderer: Renderer = field(default_factory=Renderer)
    buttons: ButtonHandler | None = None
    work: WorkQueue = field(default_factory=WorkQueue)


def build_app(
    client: WebClient,
    signing_secret: str | None,
    *,
    service: Answerer,
    command: str = "/jobs",
    working_after: float = WORKING_AFTER_SECONDS,
    renderer: Renderer | None = None,
    buttons: ButtonHandler | None = None,
    work: WorkQueue | None = None,
) -> App:
    """A Bolt app on `client`. `signing_secret=None` is for Socket Mode, which is not signed.
    `work` runs what listeners do after their ack; whoever stops the app drains it."""
    app = App(
        client=client,
        signing_secret=signing_secret or "",
        request_verification_enabled=signing_secret is not None,
        # auth.test once, on the first request, rather than at construction time.
        token_verification_enabled=False,
        raise_error_for_unhandled_request=False,
    )
    deps = AppDeps(
        service=service,
        command=command,
        working_after=working_after,
        renderer=renderer or Renderer(),
        buttons=buttons,
        work=work or WorkQueue(),
    )
    register(app, deps)
    return app


def register(app: App, deps: AppDeps) -> None:
    """Every listener of the app, in one place."""
    app.command(deps.command)(_on_command(deps))
    r = deps.renderer
    w = deps.work
    # Share and "show status" ask the warehouse again, so they count as the person's questions.
    app.action(actions.JOBS_SHARE)(_acked(_share_work(deps), r, w, per_user=True))
    app.action(actions.JOBS_PICK_JOB)(_acked(_pick_job_work(deps), r, w, per_user=True))
    # Alert buttons: the use case decides; Slack only carries the click and the ephemeral.
    app.action(actions.JOBS_ACK)(_acked(_button(deps, "acknowledge"), r, w))
    app.action(actions.JOBS_UNACK)(_acked(_button(deps, "unacknowledge"), r, w))
    app.action(actions.JOBS_SNOOZE)(_acked(_button(deps, "snooze"), r, w))
    app.action(actions.JOBS_RERUN)(_acked(_button(deps, "rerun"), r, w))
    app.action(actions.JOBS_FEEDBACK_EXPECTED)(_acked(_button(deps, "feedback"), r, w))
    app.action(actions.JOBS_FEEDBACK_NOT_ANOMALY)(_acked(_button(deps, "feedback"), r, w))
    app.action(actions.JOBS_UNMUTE)(_acked(_button(deps, "unmute_click"), r, w))
    app.action(actions.JOBS_OPEN_RUN)(_ack_only)
    app.action(actions.JOBS_OPEN_JOB)(_ack_only)
    # Last, because Bolt runs the first listener that matches: any other action id (a retired
    # one such as JOBS_RERUN_CONFIRMED, or one from a message of another version) is acked and
    # told so, instead of Bolt's 404 that Slack shows as an error.
    app.action(re.compile(".*"))(_acked(_old_button, r, w))
    app.error(_on_error(r))


# --- /jobs -----------------------------------------------------------------------------------


def _on_command(deps: AppDeps) -> Callable[..., None]:
    def on_command(
        ack: Ack, command: dict[str, Any], respond: Respond, logger: logging.Logger
    ) -> None:
        raw = (command.get("text") or "").strip()
        user_id = command.get("user_id", "")
        channel_id = command.get("channel_id")
        # repr: a newline or an escape sequence in what someone typed must not forge a line
        # (or colours) in the operator's log. The module's logger, not Bolt's per-listener
        # one, whose level Bolt fixes when the app is built rather than following the config.
        log.info(
            "%s %r%s from %r in %r",
            deps.command,
            raw[:MAX_LOGGED_CHARS],
            f" (+{len(raw) - MAX_LOGGED_CHARS} chars)" if len(raw) > MAX_LOGGED_CHARS else "",
            user_id,
            channel_id,
        )
        if len(raw) > MAX_COMMAND_CHARS:
            # Answered in the ack itself: no work, no thread, no warehouse.
            ack(
                **_problem(
                    deps.renderer,
                    f"That command is {len(raw):,} characters long; I read at most "
                    f"{MAX_COMMAND_CHARS}. Ask with a shorter job name or its id "
                    f"(`{deps.command} status 123`).",
                )
            )
            return
        text = strip_controls(raw)
        label = f"{deps.command} {clean_slack_text(text)}".strip()
        notice = deps.renderer.render("working.json.j2", label=label)
        working = WorkingNotice(respond, notice["text"], deps.working_after)

        def work() -> None:
            try:
                answer = deps.service.answer_text(text, user_id=user_id, channel_id=channel_id)
                message = with_share_button(deps.renderer, answer, text)
            except Exception as error:  # noqa: BLE001 - the user gets a message, the operator the log
                message = _problem(deps.renderer, errors.user_text(error, logger))
            working.finish(message)

        refused = deps.work.submit(user_id or None, work)
        if refused is not None:
            log.info("refused a command from %r: %s", user_id, refused.value)
            ack(**_problem(deps.renderer, _REFUSALS[refused]))
            return
        # The notice counts from the ack: a question waiting in the queue is also "working".
        working.start()
        ack()

    return on_command


def with_share_button(renderer: Renderer, answer: AnswerLike, command_text: str) -> dict[str, Any]:
    """The answer plus a **Share in channel** button that posts it visibly."""
    # The instant it was answered for, so sharing posts this answer rather than a newer one.
    at = int(answer.asked_at.timestamp()) if answer.asked_at is not None else None
    try:
        value = actions.share_value(command_text, at)
    except ValueError:
        # Cannot happen for a command within MAX_COMMAND_CHARS (see actions.share_value); if
        # it does, the answer still goes out, without the button.
        log.warning("answer sent without a Share button: its value would not fit")
        return {"text": answer.text, "blocks": cut_items(list(answer.blocks))}
    share = renderer.render("share_button.json.j2", value=value, ids=actions.TEMPLATE_IDS)["blocks"]
    # Leave room for the button: Slack allows 50 blocks in a message.
    blocks = cut_items(list(answer.blocks), limit=50 - len(share))
    return {"text": answer.text, "blocks": [*blocks, *share]}


# --- buttons ---------------------------------------------------------------------------------


ClickWork = Callable[[dict[str, Any], dict[str, Any], WebClient, Respond], None]


def _acked(
    work: ClickWork, renderer: Renderer, queue: WorkQueue, *, per_user: bool = False
) -> Callable[..., None]:
    """A click listener that acks, then queues ``work(body, action, client, respond)``.

    Errors are reported here instead of being raised to Bolt: when a listener raises right
    after ack(), Bolt 1.30's thread runner resets the ack it already has and the HTTP request
    can go unanswered (Slack shows the user a timeout and the error message never arrives).
    """

    def listener(
        ack: Ack,
        body: dict[str, Any],
        action: dict[str, Any],
        client: WebClient,
        respond: Respond,
        logger: logging.Logger,
    ) -> None:
        ack()

        def run() -> None:
            try:
                work(body, action, client, respond)
            except Exception as error:  # noqa: BLE001 - every failure is told to the user once
                _report(renderer, error, body, respond, logger)

        user = str((body.get("user") or {}).get("id") or "") or None
        refused = queue.submit(user if per_user else None, run)
        if refused is not None:
            # A click's ack cannot carry a message; the response_url can.
            log.info("refused a click from %r: %s", user, refused.value)
            deliver(
                respond,
                **_problem(renderer, _REFUSALS[refused]),
                response_type="ephemeral",
                replace_original=False,
            )

    return listener


def _share_work(deps: AppDeps) -> ClickWork:
    def share(
        body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond
    ) -> None:
        value = actions.decode(action.get("value"), actions.JOBS_SHARE)
        user_id = body["user"]["id"]
        channel_id = _channel_of(body)
        at = datetime.fromtimestamp(value.at, UTC) if value.at is not None else None
        answer = deps.service.answer_text(
            value.command or "", user_id=user_id, channel_id=channel_id, at=at
        )
        # What was asked, as it was shown to the asker: never control characters or
        # bidirectional overrides in a channel message.
        label = f"{deps.command} {clean_slack_text(value.command)}".strip()
        credit = deps.renderer.render("shared_credit.json.j2", user_id=user_id, label=label)
        blocks = [*cut_items(list(answer.blocks), limit=49), *credit["blocks"]]
        try:
            _post_visible(client, channel_id, answer.text, blocks)
        except (errors.NotInChannel, errors.ChannelNotFound):
            # A private channel the bot is not in answers channel_not_found, not not_in_channel.
            raise UserError(
                "I can't post in this channel. Invite me first: `/invite @jobs-bot`."
            ) from None
        deliver(respond, delete_original=True)

    return share


def _channel_of(body: dict[str, Any]) -> str:
    return str((body.get("channel") or {}).get("id") or body["container"]["channel_id"])


def _post_visible(client: WebClient, channel: str, text: str, blocks: list[dict[str, Any]]) -> None:
    def post() -> object:
        return client.chat_postMessage(channel=channel, text=text, blocks=blocks)

    try:
        errors.call("chat.postMessage", post)
    except errors.NotInChannel:
        # Public channels can be joined without an invite; private ones cannot.
        errors.call("conversations.join", lambda: client.conversations_join(channel=channel))
        errors.call("chat.postMessage", post)


def _button(deps: AppDeps, use_case: str) -> ClickWork:
    """Hand the click to its use case after the ack; answer the clicker with its ephemeral.
    Channel-visible changes (the message updated in place, thread lines) go through the
    outbox, which the notifier sends at the channel's pace."""

    def work(
        body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond
    ) -> None:
        if deps.buttons is None:
            # No state store or watchers in this process (e.g. a bot run without alerts).
            deliver(
                respond,
                text=":construction: Nothing was done: this jobs-bot runs without its state "
                "store (alerts are off), so what this button changes is not stored yet.",
                response_type="ephemeral",
                replace_original=False,
            )
            return
        reply: Reply | None = getattr(deps.buttons, use_case)(_click_of(body, action))
        if reply is not None:
            deliver(
                respond,
                text=reply.text,
                blocks=reply.blocks,
                response_type="ephemeral",
                replace_original=False,
            )

    return work


def _click_of(body: dict[str, Any], action: dict[str, Any]) -> Click:
    container = body.get("container") or {}
    # A select carries its choice in selected_option; a button in value.
    value = action.get("value")
    if value is None:
        value = (action.get("selected_option") or {}).get("value")
    on_message = container.get("type") == "message" and not container.get("is_ephemeral")
    return Click(
        user_id=str((body.get("user") or {}).get("id") or ""),
        action_id=str(action.get("action_id") or ""),
        value=value,
        channel_id=str((body.get("channel") or {}).get("id") or container.get("channel_id") or "")
        or None,
        message_ts=str(container["message_ts"])
        if on_message and container.get("message_ts")
        else None,
    )


def _pick_job_work(deps: AppDeps) -> ClickWork:
    """ "Show status" on a "did you mean" list: the chosen job's status replaces the list."""

    def pick(
        body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond
    ) -> None:
        value = actions.decode(action.get("value"), actions.JOBS_PICK_JOB)
        # workspace_id/job_id is unambiguous even when job ids repeat across workspaces.
        text = f"status {value.workspace_id}/{value.job_id}"
        answer = deps.service.answer_text(
            text, user_id=body["user"]["id"], channel_id=_channel_of(body)
        )
        message = with_share_button(deps.renderer, answer, text)
        deliver(
            respond,
            text=message["text"],
            blocks=message["blocks"],
            response_type="ephemeral",
            replace_original=True,
        )

    return pick


def _old_button(
    body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond
) -> None:
    log.info(
        "click on an unhandled action id %r from %r",
        str(action.get("action_id") or action.get("callback_id") or "")[:MAX_LOGGED_CHARS],
        (body.get("user") or {}).get("id"),
    )
    deliver(
        respond,
        text=f":information_source: {actions.OLD_BUTTON_TEXT}",
        response_type="ephemeral",
        replace_original=False,
    )


def _ack_only(ack: Ack) -> None:
    """URL buttons open the link in the browser and still send a click that must be acked."""
    ack()


# --- errors ----------------------------------------------------------------------------------


def _on_error(renderer: Renderer) -> Callable[..., BoltResponse | None]:
    """Errors raised outside the listeners' own guard (middleware, Bolt itself)."""

    def on_error(
        error: Exception, body: dict[str, Any], respond: Respond, logger: logging.Logger
    ) -> BoltResponse | None:
        _report(renderer, error, body, respond, logger)
        return None

    return on_error


def _report(
    renderer: Renderer,
    error: Exception,
    body: dict[str, Any],
    respond: Respond,
    logger: logging.Logger,
) -> None:
    """Known errors become a friendly ephemeral; unknown ones an error id, logged in full."""
    text = errors.user_text(error, logger)
    if body.get("response_url") or body.get("response_urls"):
        try:
            deliver(
                respond,
                **_problem(renderer, text),
                response_type="ephemeral",
                replace_original=False,
            )
        except Exception:
            logger.exception("could not tell the user about the error")


def _problem(renderer: Renderer, text: str) -> dict[str, Any]:
    return renderer.render("problem.json.j2", message=text)
