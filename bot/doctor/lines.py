"""One line of the doctor's report: what was checked, ok / WARN / FAIL / skip, and the fix."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Status = Literal["ok", "warn", "fail", "skip"]


@dataclass(frozen=True)
class Line:
    """One check's outcome, printed as one line."""

    status: Status
    check: str
    detail: str
    fix: str = ""

    def render(self) -> str:
        tag = {"ok": "ok", "warn": "WARN", "fail": "FAIL", "skip": "skip"}[self.status]
        fix = f" — fix: {self.fix}" if self.fix else ""
        return f"{tag:<5} {self.check}: {self.detail}{fix}"


def failed(lines: Iterable[Line]) -> bool:
    return any(line.status == "fail" for line in lines)


def first_line(err: BaseException) -> str:
    text = str(err).strip() or type(err).__name__
    return text.splitlines()[0][:300]
