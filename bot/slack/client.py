"""The Slack Web API client jobs-bot uses everywhere: slack_sdk's WebClient with retry handlers
for rate limits (honouring Retry-After), 5xx answers and dropped connections."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

SLACK_API_URL = WebClient.BASE_URL


def web_client(token: str, base_url: str | None = None, *, timeout: int = 30) -> WebClient:
    """A WebClient on `base_url` (slack.com, GovSlack or the local sandbox) that retries
    429 (after the Retry-After it names), 5xx twice and connection resets twice."""
    client = WebClient(token=token, base_url=base_url or SLACK_API_URL, timeout=timeout)
    client.retry_handlers = [
        ConnectionErrorRetryHandler(max_retry_count=2),
        RateLimitErrorRetryHandler(max_retry_count=3),
        ServerErrorRetryHandler(max_retry_count=2),
    ]
    return client
