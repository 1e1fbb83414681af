"""Typed errors of the JumpCloud console API, each carrying the HTTP status and JumpCloud's
own message, so a test can ``pytest.raises(BadRequest, match="already exists")``.

Messages come from the response body (``{"message": ...}``) and name the call; they never
contain request headers (the API key) or request bodies (passwords).
"""

from __future__ import annotations


class JumpCloudError(Exception):
    """A call to the console API failed. ``status`` is 0 when no HTTP answer arrived."""

    def __init__(self, method: str, path: str, status: int, message: str) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.message = message
        self.attempts = 1
        """How many times the call was sent before this error (set by the client's retry loop):
        above 1, an earlier attempt may have taken effect although its answer was lost."""
        where = f"{method} {path}"
        super().__init__(f"{where}: HTTP {status}: {message}" if status else f"{where}: {message}")


class BadRequest(JumpCloudError):
    """400: validation failed, duplicate user, limit over 100, conflicting state..."""


class Unauthorized(JumpCloudError):
    """401: the API key is missing or wrong (or x-org-id missing for a multi-tenant admin)."""


class Forbidden(JumpCloudError):
    """403."""


class NotFound(JumpCloudError):
    """404: no such object in this organization."""


class Conflict(JumpCloudError):
    """409: the object is in a state that forbids the call (e.g. activating an active user)."""


class PayloadTooLarge(JumpCloudError):
    """413."""


class RateLimited(JumpCloudError):
    """429 still answered after the retry budget was spent."""


class ServerError(JumpCloudError):
    """5xx still answered after the retry budget was spent."""


class TransportError(JumpCloudError):
    """No HTTP answer: connection refused or reset, timeout."""


_BY_STATUS: dict[int, type[JumpCloudError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    429: RateLimited,
}


def error_for(method: str, path: str, status: int, message: str) -> JumpCloudError:
    """The most specific error class for ``status``."""
    if status >= 500:
        return ServerError(method, path, status, message)
    return _BY_STATUS.get(status, JumpCloudError)(method, path, status, message)
