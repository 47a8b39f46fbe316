"""Browser test support: Debian's Chromium and where screenshots go."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
# As root, without a sandbox; the rest keeps Chromium off the (closed) network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def screenshot_dir() -> Path:
    """docs/ (shown in the README) only with UPDATE_SCREENSHOTS=1, so test runs leave the tree
    clean: `UPDATE_SCREENSHOTS=1 ./run-tests -m browser`."""
    if os.environ.get("UPDATE_SCREENSHOTS"):
        return Path(__file__).resolve().parents[2] / "docs"
    return Path(tempfile.gettempdir()) / "jobs-bot-screenshots"
