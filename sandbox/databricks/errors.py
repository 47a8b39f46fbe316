"""The one error type of the local Databricks: what the server turns into a JSON error body.

The world raises it too, because its mutators validate exactly as the API does (a repair of a
running run is refused the same way whether a test or the SDK asks).
"""

from __future__ import annotations


class ApiError(Exception):
    """An API refusal: HTTP status + Databricks `error_code` + message."""

    def __init__(self, status: int, error_code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message

    def body(self) -> dict[str, str]:
        return {"error_code": self.error_code, "message": self.message}


def invalid(message: str) -> ApiError:
    return ApiError(400, "INVALID_PARAMETER_VALUE", message)


def no_run(run_id: int) -> ApiError:
    # Databricks answers 400 (not 404) here; the SDK's error override for jobs/runs/get*
    # matches "Run .* does not exist" and raises ResourceDoesNotExist from it.
    return ApiError(400, "INVALID_PARAMETER_VALUE", f"Run {run_id} does not exist.")


def no_job(job_id: int) -> ApiError:
    # Same shape; the SDK's override for jobs/get turns it into ResourceDoesNotExist.
    return ApiError(400, "INVALID_PARAMETER_VALUE", f"Job {job_id} does not exist.")


def denied(message: str) -> ApiError:
    return ApiError(403, "PERMISSION_DENIED", message)
