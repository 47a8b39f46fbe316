"""A tiny stand-in for the real Bolt app, so `jobs-bot demo` works before `bot.slack.app`
exists: `/jobs help` answers with usage, anything else is echoed in the channel with a
button that updates that message in place."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

DONE_ACTION = "standin_done"
HELP = (
    "*jobs-bot (stand-in)* — the real commands are not installed yet.\n"
    "`/jobs help` shows this; any other text is echoed back with a button."
)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def build_app(client: WebClient, signing_secret: str) -> App:
    app = App(client=client, signing_secret=signing_secret)

    @app.command("/jobs")
    def jobs(ack: Any, command: dict[str, Any], respond: Any) -> None:
        text = (command.get("text") or "").strip()
        if text in ("", "help"):
            ack(text=HELP)
            return
        ack()
        echo = _escape(text)
        respond(
            response_type="in_channel",
            text=f"You asked: {echo}",
            blocks=[
                {"type": "section", "text": {"type": "mrkdwn", "text": f"You asked: `{echo}`"}},
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "action_id": DONE_ACTION,
                            "text": {"type": "plain_text", "text": "Mark done"},
                            "style": "primary",
                            "value": text[:2000],
                        }
                    ],
                },
            ],
        )

    @app.action(DONE_ACTION)
    def done(ack: Any, body: dict[str, Any], respond: Any) -> None:
        ack()
        who = body["user"]["id"]
        value = _escape(body["actions"][0].get("value", ""))
        respond(
            replace_original=True,
            text=f"Done: {value}",
            blocks=[
                {
                    "type": "section",
                    "text": {
                        "type": "mrkdwn",
                        "text": f":white_check_mark: `{value}` marked done by <@{who}>",
                    },
                }
            ],
        )

    return app
