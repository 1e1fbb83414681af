"""One request that tells, before a run touches a real org, whether the org is there.

``check_org`` sends a single ``GET /api/organizations`` with the key, without retries, within
a total time budget (5 s by default), and names what is wrong in one line: the org cannot be
reached (refused, no such host, TLS, no answer in time), the key is refused (401/403), or
whatever answered is not the JumpCloud console API (an HTML page, a 404, JSON of another
shape). The message names the URL and the cause, never the key: the key is also blanked out of
anything the server sent back, should a server echo it, and that text is scrubbed like all
outside text (:func:`tokenrig.harness.scrub.scrub_text`).
"""

from __future__ import annotations

import errno
import json
import time
from dataclasses import dataclass
from typing import Any

import requests

from tokenrig.harness.jumpcloud.config import JumpCloudConfig
from tokenrig.harness.scrub import scrub_text

CHECK_BUDGET = 5.0
"""Longest time (seconds) the check may take, connection and answer together."""
MAX_BODY = 1 << 20


class OrgCheckError(Exception):
    """The org given cannot be used; the message is one line for the user."""


@dataclass(frozen=True)
class OrgCheck:
    """What the check learned: how many orgs the key sees (1 for an ordinary admin key)."""

    url: str
    organizations: int


def check_org(
    config: JumpCloudConfig,
    *,
    budget: float = CHECK_BUDGET,
    session: requests.Session | None = None,
) -> OrgCheck:
    """Send the one request and judge its answer; raise :class:`OrgCheckError` when unusable."""
    url = config.base_url
    key = config.api_key.reveal()
    headers = {"x-api-key": key, "Accept": "application/json"}
    if config.org_id:
        headers["x-org-id"] = config.org_id
    deadline = time.monotonic() + budget
    own = session is None
    http = session or requests.Session()
    try:
        try:
            response = http.get(
                url + "/api/organizations",
                headers=headers,
                timeout=(budget / 2, budget / 2),
                stream=True,
                allow_redirects=False,
            )
            body = _read(response, deadline)
        except requests.ConnectTimeout:
            raise OrgCheckError(
                f"{url}: cannot reach the org: no connection within {budget:g} s"
            ) from None
        except requests.Timeout:
            raise OrgCheckError(
                f"{url}: cannot reach the org: no answer within {budget:g} s"
            ) from None
        except requests.ConnectionError as exc:
            raise OrgCheckError(f"{url}: cannot reach the org: {_cause(exc)}") from None
    finally:
        if own:
            http.close()
    return _judge(url, response, body, key)


def _read(response: requests.Response, deadline: float) -> bytes:
    """The body, at most :data:`MAX_BODY` bytes, cut off at the deadline."""
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(16384):
            chunks.append(chunk)
            size += len(chunk)
            if size >= MAX_BODY or time.monotonic() > deadline:
                break
    finally:
        response.close()
    return b"".join(chunks)


def _cause(exc: requests.ConnectionError) -> str:
    """Why no connection was made, in words (refused, unknown host, TLS, reset)."""
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS handshake failed (is the URL's scheme and host right?)"
    seen: set[int] = set()
    error: BaseException | None = exc
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, ConnectionRefusedError) or getattr(error, "errno", None) == (
            errno.ECONNREFUSED
        ):
            return "connection refused (nothing listens there)"
        text = str(error)
        if "Name or service not known" in text or "nodename nor servname" in text:
            return "host name not found"
        if isinstance(error, ConnectionResetError):
            return "connection reset by the server"
        nxt = error.__cause__ or error.__context__
        if nxt is None and error.args and isinstance(error.args[0], BaseException):
            nxt = error.args[0]
        if nxt is None:
            nxt = getattr(error, "reason", None)
            nxt = nxt if isinstance(nxt, BaseException) else None
        error = nxt
    return f"connection failed ({type(exc).__name__})"


def _judge(url: str, response: requests.Response, body: bytes, key: str) -> OrgCheck:
    status = response.status_code
    data = _json(body)
    message = data.get("message") if isinstance(data, dict) else None
    said = f": {_clean(str(message), key)}" if isinstance(message, str) and message else ""
    if status in (401, 403):
        raise OrgCheckError(
            f"{url}: the API key was refused (HTTP {status}{said}); check JUMPCLOUD_API_KEY"
            + (" and JUMPCLOUD_ORG_ID" if status == 401 else "")
        )
    if 300 <= status < 400:
        where = _clean(response.headers.get("Location", "elsewhere"), key)
        raise OrgCheckError(
            f"{url}: answered HTTP {status} (redirect to {where}), not the JumpCloud console "
            "API; give the console URL itself"
        )
    if status >= 400:
        raise OrgCheckError(
            f"{url}: answered HTTP {status}{said} to GET /api/organizations; is this the "
            "JumpCloud console URL?"
        )
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, list):
        what = "not JSON" if data is None else "JSON without a 'results' list"
        raise OrgCheckError(
            f"{url}: answered HTTP {status} with {what} to GET /api/organizations; it does not "
            "answer like the JumpCloud console API"
        )
    return OrgCheck(url, len(results))


def _json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


def _clean(text: str, key: str) -> str:
    """One short line of what the server said: the key blanked if it was echoed, then the
    harness's scrub for outside text (anything spelling secret bytes)."""
    text = " ".join(text.split())
    text = text.replace(key, "***") if key else text
    return scrub_text(text[:200])
