"""Errors that carry a message meant for a person (CLI user or Slack user), not a traceback."""


class UserError(Exception):
    """Bad input or a known failure: the message is shown as is, without a traceback."""
