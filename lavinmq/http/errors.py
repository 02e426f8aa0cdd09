"""API errors: raised anywhere in a handler, rendered once by the error middleware."""

from __future__ import annotations


class ApiError(Exception):
    """An HTTP error with RabbitMQ's ``{"error", "reason"}`` body."""

    def __init__(self, status: int, error: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.error = error
        self.reason = reason


def bad_request(reason: str) -> ApiError:
    return ApiError(400, "bad_request", reason)


def not_found(reason: str = "Not Found") -> ApiError:
    return ApiError(404, "Object Not Found", reason)


def access_refused(reason: str = "Access refused") -> ApiError:
    return ApiError(403, "access_refused", reason)


def not_authorized(reason: str = "Login failed") -> ApiError:
    return ApiError(401, "not_authorized", reason)


def conflict(reason: str) -> ApiError:
    return ApiError(409, "conflict", reason)
