"""Typed client for the JumpCloud console API (V1 system users and org settings, V2 bulk user
states), the same against console.jumpcloud.com and the local emulator.

One client holds one ``requests.Session`` (a connection pool); use one client per thread.
Every call retries 429/5xx with exponential backoff inside a total time budget
(:class:`~tokenrig.harness.jumpcloud.retry.RetryPolicy`) and raises a typed
:class:`~tokenrig.harness.jumpcloud.errors.JumpCloudError` carrying the status and JumpCloud's
message.
Lists are paged with ``limit=100`` until ``totalCount`` is reached, never the default 10.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from types import TracebackType
from typing import Any

import requests
import urllib3.exceptions

from tokenrig.harness.clock import SYSTEM_CLOCK, Clock
from tokenrig.harness.jumpcloud.config import JumpCloudConfig
from tokenrig.harness.jumpcloud.errors import (
    BadRequest,
    JumpCloudError,
    NotFound,
    TransportError,
    error_for,
)
from tokenrig.harness.jumpcloud.objects import (
    Organization,
    ScheduledStateChange,
    SystemUser,
    TotpFactor,
    UserPage,
    UserState,
    format_time,
    parse_time,
)
from tokenrig.harness.jumpcloud.org_changes import OrgChanges
from tokenrig.harness.jumpcloud.retry import RETRY_STATUSES, CircuitBreaker, RetryPolicy
from tokenrig.harness.secrets import SecretText

log = logging.getLogger(__name__)

PAGE_SIZE = 100
"""The largest page ``GET /systemusers`` allows."""
SEARCH_PAGE_SIZE = 100
IDEMPOTENT = frozenset({"GET", "PUT", "DELETE", "HEAD"})
TIMEOUT = (5.0, 30.0)
"""(connect, read) seconds for one HTTP request."""


def _connect_failed(exc: requests.ConnectionError) -> bool:
    """True when the request never reached the server (safe to repeat even a POST)."""
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, urllib3.exceptions.MaxRetryError):
        return isinstance(reason.reason, urllib3.exceptions.NewConnectionError)
    return isinstance(exc, requests.exceptions.ConnectTimeout)


class JumpCloudClient:
    """Console API calls the harness makes. Construct from a :class:`JumpCloudConfig` or with
    :meth:`from_env`; use as a context manager to close the connection pool."""

    def __init__(
        self,
        config: JumpCloudConfig,
        *,
        retry: RetryPolicy | None = None,
        clock: Clock | None = None,
        session: requests.Session | None = None,
        breaker: CircuitBreaker | None = None,
        org_changes: OrgChanges | None = None,
    ) -> None:
        self.config = config
        self.breaker = breaker
        """Shared by a live session's clients: after one call got no answer, none is sent."""
        self.org_changes = org_changes
        """When given, org-wide changes are recorded first so they can be restored."""
        self.retry = retry or RetryPolicy()
        self._clock = clock or SYSTEM_CLOCK
        self._session = session or requests.Session()
        self._session.headers.update({"Accept": "application/json"})
        self.requests_sent = 0
        """HTTP requests sent, retries included (for load measurements)."""

    @classmethod
    def from_env(cls, url: str | None = None, **kwargs: Any) -> JumpCloudClient:
        return cls(JumpCloudConfig.from_env(url), **kwargs)

    @classmethod
    def connect(cls, url: str, api_key: str | SecretText, **kwargs: Any) -> JumpCloudClient:
        key = (
            api_key if isinstance(api_key, SecretText) else SecretText(api_key, "JumpCloud API key")
        )
        org_id = kwargs.pop("org_id", None)
        return cls(JumpCloudConfig(url, key, org_id), **kwargs)

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> JumpCloudClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"JumpCloudClient({self.config.base_url!r})"

    # -- transport ---------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        json: Any = None,
    ) -> requests.Response:
        """One API call with retries; returns the successful response or raises a typed error.

        ``path`` is relative to the console root, e.g. ``/api/systemusers``.
        """
        headers = {"x-api-key": self.config.api_key.reveal()}
        if self.config.org_id:
            headers["x-org-id"] = self.config.org_id
        if json is not None:
            headers["Content-Type"] = "application/json"
        url = self.config.base_url + path
        stopped = self.breaker.allow() if self.breaker is not None else None
        if stopped is not None:
            raise TransportError(method, path, 0, f"not sent: {stopped}")
        deadline = self._clock.now() + self.retry.total
        attempt = 0
        while True:
            failure: Exception
            retry_after: str | None = None
            try:
                self.requests_sent += 1
                response = self._session.request(
                    method, url, params=params, json=json, headers=headers, timeout=TIMEOUT
                )
            except requests.ConnectionError as exc:
                failure = TransportError(
                    method, path, 0, f"connection failed ({type(exc).__name__})"
                )
                retryable = method in IDEMPOTENT or _connect_failed(exc)
            except requests.Timeout:
                failure = TransportError(method, path, 0, "timed out")
                retryable = method in IDEMPOTENT
            else:
                log.debug("%s %s -> %s", method, path, response.status_code)
                if response.status_code < 400:
                    return response
                failure = error_for(method, path, response.status_code, _message(response))
                retryable = response.status_code in RETRY_STATUSES
                retry_after = response.headers.get("Retry-After")
            if isinstance(failure, JumpCloudError):
                failure.attempts = attempt + 1
            wait = self.retry.delay(attempt, retry_after)
            if (
                not retryable
                or attempt + 1 >= self.retry.max_attempts
                or self._clock.now() + wait > deadline
            ):
                if isinstance(failure, TransportError) and self.breaker is not None:
                    self.breaker.trip(self.config.base_url, failure)
                raise failure
            log.info("%s %s: %s; retrying in %.2f s", method, path, failure, wait)
            self._clock.sleep(wait)
            attempt += 1

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise error_for(method, path, response.status_code, "response is not JSON") from exc

    # -- system users ------------------------------------------------------------------------
    def create_user(
        self,
        username: str,
        email: str,
        *,
        firstname: str = "",
        lastname: str = "",
        password: SecretText | None = None,
        state: UserState | None = None,
        require_mfa: bool = False,
        mfa_exclusion_days: int | None = None,
        mfa_exclusion_until: datetime | None = None,
        alternate_email: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> SystemUser:
        """``POST /api/systemusers``. ``require_mfa`` sets "Require MFA for User Portal" with a
        grace period of ``mfa_exclusion_days`` (STAGED users) or until ``mfa_exclusion_until``.

        A POST answered 429/5xx is retried; if the retry meets "already exists" because the
        first attempt did create the user, that user is returned (see
        :meth:`_created_by_lost_attempt`)."""
        body: dict[str, Any] = {"username": username, "email": email}
        if firstname:
            body["firstname"] = firstname
        if lastname:
            body["lastname"] = lastname
        if password is not None:
            body["password"] = password.reveal()
        if state is not None:
            body["state"] = str(state)
            body["suspended"] = state is UserState.SUSPENDED
        if alternate_email:
            body["alternateEmail"] = alternate_email
        if require_mfa:
            body["enable_user_portal_multifactor"] = True
            body["mfa"] = _mfa_body(mfa_exclusion_days, mfa_exclusion_until)
        body.update(extra or {})
        try:
            return SystemUser.from_json(self._json("POST", "/api/systemusers", json=body))
        except BadRequest as exc:
            made = self._created_by_lost_attempt(exc, username, email)
            if made is None:
                raise
            return made

    def _created_by_lost_attempt(
        self, error: BadRequest, username: str, email: str
    ) -> SystemUser | None:
        """The user an earlier attempt of this create made, if ``error`` is the retry's
        "already exists" after that attempt's answer was lost (e.g. a 502 from a gateway once
        the backend had committed). Only a user with the same username *and* email counts: a
        namesake someone else made must still fail the call."""
        if error.attempts < 2 or "already exists" not in error.message.casefold():
            return None
        user = self.find_user(username)
        if user is None or user.email.casefold() != email.casefold():
            return None
        log.info("POST /api/systemusers: an earlier attempt created %s; using it", user.id)
        return user

    def get_user(self, user_id: str) -> SystemUser:
        return SystemUser.from_json(self._json("GET", f"/api/systemusers/{_id(user_id)}"))

    def list_users(
        self,
        *,
        limit: int = PAGE_SIZE,
        skip: int = 0,
        sort: str | None = None,
        filters: Iterable[str] = (),
        fields: str | None = None,
    ) -> UserPage:
        """One page of ``GET /api/systemusers``. ``filters`` are ``field:$op:value`` strings,
        ANDed. Prefer :meth:`iter_users`, which pages through everything."""
        params: list[tuple[str, Any]] = [("limit", limit), ("skip", skip)]
        if sort:
            params.append(("sort", sort))
        if fields:
            params.append(("fields", fields))
        params.extend(("filter", expr) for expr in filters)
        data = self._json("GET", "/api/systemusers", params=params)
        return _page(data)

    def iter_users(
        self, *, filters: Iterable[str] = (), sort: str = "_id", page_size: int = PAGE_SIZE
    ) -> Iterator[SystemUser]:
        """Every matching user, page after page, sorted by ``_id`` so paging is stable."""
        filters = list(filters)
        skip = 0
        while True:
            page = self.list_users(limit=page_size, skip=skip, sort=sort, filters=filters)
            yield from page.results
            skip += len(page.results)
            if not page.results or skip >= page.total_count:
                return

    def all_users(self, *, filters: Iterable[str] = ()) -> list[SystemUser]:
        return list(self.iter_users(filters=filters))

    def search_users(
        self,
        filter: Any = None,
        *,
        search_term: str | list[str] | None = None,
        search_fields: list[str] | None = None,
        page_size: int = SEARCH_PAGE_SIZE,
    ) -> list[SystemUser]:
        """``POST /api/search/systemusers``, every page. ``filter`` is the search body's
        filter (``[{"username": "x"}]``, ``{"or": [...]}``, ``{"email": {"$regex": ...}}``)."""
        body: dict[str, Any] = {}
        if isinstance(filter, list):
            filter = {"and": filter}  # the spec types `filter` as an object
        if filter is not None:
            body["filter"] = filter
        if search_term is not None:
            search: dict[str, Any] = {"searchTerm": search_term}
            if search_fields:
                search["fields"] = search_fields
            body["searchFilter"] = search
        found: list[SystemUser] = []
        while True:
            page_body = {**body, "limit": page_size, "skip": len(found)}
            page = _page(
                self._json(
                    "POST",
                    "/api/search/systemusers",
                    params={"limit": page_size, "skip": len(found)},
                    json=page_body,
                )
            )
            found.extend(page.results)
            if not page.results or len(found) >= page.total_count:
                return found

    def find_user(self, username: str) -> SystemUser | None:
        """The user with exactly this username, or None."""
        matches = self.list_users(limit=2, filters=[f"username:$eq:{username}"]).results
        return next((user for user in matches if user.username == username), None)

    def update_user(self, user_id: str, **changes: Any) -> SystemUser:
        """``PUT /api/systemusers/{id}`` with only the given fields (JumpCloud's names)."""
        if isinstance(changes.get("password"), SecretText):
            changes["password"] = changes["password"].reveal()
        data = self._json("PUT", f"/api/systemusers/{_id(user_id)}", json=changes)
        return SystemUser.from_json(data)

    def delete_user(self, user_id: str) -> SystemUser:
        return SystemUser.from_json(self._json("DELETE", f"/api/systemusers/{_id(user_id)}"))

    def suspend_user(self, user_id: str) -> SystemUser:
        return self.update_user(user_id, state="SUSPENDED", suspended=True)

    def unsuspend_user(self, user_id: str) -> SystemUser:
        return self.update_user(user_id, state="ACTIVATED", suspended=False)

    def activate_user(self, user_id: str, email: bool | str | None = None) -> None:
        """``POST .../state/activate``: STAGED → ACTIVATED. ``email``: None = JumpCloud's
        default mail, False = no mail, an address = mail there."""
        body: dict[str, Any] = {} if email is None else {"email": email}
        self.request("POST", f"/api/systemusers/{_id(user_id)}/state/activate", json=body)

    def resend_activation(self, user_ids: Iterable[str]) -> None:
        """``POST /api/systemusers/reactivate``: activation mail (pending users) or password
        reset mail (active users), like the console's "Resend email"."""
        models = [{"_id": _id(user_id)} for user_id in user_ids]
        self.request(
            "POST", "/api/systemusers/reactivate", json={"isSelectAll": False, "models": models}
        )

    def require_mfa(
        self, user_id: str, *, days: int | None = None, until: datetime | None = None
    ) -> SystemUser:
        """Turn on "Require MFA for User Portal" with a grace period."""
        return self.update_user(
            user_id, enable_user_portal_multifactor=True, mfa=_mfa_body(days, until)
        )

    def waive_mfa(self, user_id: str) -> SystemUser:
        return self.update_user(user_id, enable_user_portal_multifactor=False)

    def reset_mfa(
        self,
        user_id: str,
        *,
        exclusion: bool | None = None,
        days: int | None = None,
        until: datetime | None = None,
    ) -> None:
        """``resetmfa``: forget the user's TOTP key and start a new enrollment period."""
        body: dict[str, Any] = {}
        if exclusion is not None:
            body["exclusion"] = exclusion
        if days is not None:
            body["exclusionDays"] = days
        if until is not None:
            body["exclusionUntil"] = format_time(until)
        self.request("POST", f"/api/systemusers/{_id(user_id)}/resetmfa", json=body)

    def totp_enrollment_date(self, user_id: str) -> datetime | None:
        """``GET .../totpinfo``: when the user enrolled TOTP (None when not enrolled)."""
        try:
            data = self._json("GET", f"/api/systemusers/{_id(user_id)}/totpinfo")
        except NotFound:
            return None
        return parse_time(data.get("enrollmentDate")) if isinstance(data, dict) else None

    def unlock_user(self, user_id: str) -> None:
        self.request("POST", f"/api/systemusers/{_id(user_id)}/unlock")

    # -- organization ------------------------------------------------------------------------
    def list_organizations(self) -> list[Organization]:
        data = self._json("GET", "/api/organizations")
        return [Organization.from_json(item) for item in (data or {}).get("results", [])]

    def organization(self, org_id: str | None = None) -> Organization:
        """The org (default: the first the key sees), with its settings."""
        org_id = org_id or self.config.org_id or self.list_organizations()[0].id
        return Organization.from_json(self._json("GET", f"/api/organizations/{_id(org_id)}"))

    def update_organization_settings(
        self, settings: Mapping[str, Any], org_id: str | None = None
    ) -> Organization:
        """``PUT /api/organizations/{id}`` with ``{"settings": ...}`` (only the given keys)."""
        org_id = org_id or self.organization().id
        if self.org_changes is not None:
            self.org_changes.before_settings(self, org_id, list(settings))
        data = self._json("PUT", f"/api/organizations/{_id(org_id)}", json={"settings": settings})
        return Organization.from_json(data)

    def totp_factor(self) -> TotpFactor:
        """The org's "MFA Configurations → TOTP" switch."""
        data = self._json("GET", "/api/userportal/mfa/totp") or {}
        return TotpFactor(bool(data.get("enabled")), bool(data.get("readOnly", False)))

    def set_totp_factor(self, enabled: bool) -> TotpFactor:
        """Switch the org's TOTP factor (recorded first when the client has ``org_changes``)."""
        if self.org_changes is not None:
            self.org_changes.before_totp(self)
        data = self._json(
            "PUT", "/api/userportal/mfa/totp", json={"type": "totp", "enabled": enabled}
        )
        return TotpFactor(bool(data.get("enabled")), bool(data.get("readOnly", False)))

    # -- V2 scheduled user states ------------------------------------------------------------
    def schedule_user_state(
        self,
        user_ids: Iterable[str],
        state: UserState,
        start: datetime,
        *,
        send_activation_emails: bool | None = None,
        activation_email_override: str | None = None,
    ) -> list[ScheduledStateChange]:
        """``POST /api/v2/bulk/userstates``: activate or suspend users at ``start``."""
        if state is UserState.STAGED:
            raise ValueError("a scheduled state must be ACTIVATED or SUSPENDED")
        body: dict[str, Any] = {
            "user_ids": [_id(user_id) for user_id in user_ids],
            "state": str(state),
            "start_date": format_time(start),
        }
        if send_activation_emails is not None:
            body["send_activation_emails"] = send_activation_emails
        if activation_email_override is not None:
            body["activation_email_override"] = activation_email_override
        data = self._json("POST", "/api/v2/bulk/userstates", json=body)
        return [ScheduledStateChange.from_json(item) for item in data or []]

    def scheduled_user_states(self, user_id: str | None = None) -> list[ScheduledStateChange]:
        """Every pending job (V2 paging: bare array + ``x-total-count``)."""
        jobs: list[ScheduledStateChange] = []
        while True:
            params: dict[str, Any] = {"limit": PAGE_SIZE, "skip": len(jobs)}
            if user_id:
                params["userid"] = _id(user_id)
            response = self.request("GET", "/api/v2/bulk/userstates", params=params)
            page = response.json() or []
            jobs.extend(ScheduledStateChange.from_json(item) for item in page)
            total = int(response.headers.get("x-total-count", len(jobs)))
            if not page or len(jobs) >= total:
                return jobs

    def cancel_scheduled_user_state(self, job_id: str) -> None:
        self.request("DELETE", f"/api/v2/bulk/userstates/{_id(job_id)}")


def _id(value: str) -> str:
    """Object ids go into URL paths: refuse anything that could change the path."""
    if not value or not value.isalnum():
        raise ValueError(f"invalid JumpCloud object id {value!r}")
    return value


def _mfa_body(days: int | None, until: datetime | None) -> dict[str, Any]:
    if until is not None:
        return {"exclusion": True, "exclusionUntil": format_time(until)}
    if days is not None:
        return {"exclusion": True, "exclusionDays": days}
    return {"exclusion": False}


def _page(data: Any) -> UserPage:
    data = data if isinstance(data, dict) else {}
    results = [SystemUser.from_json(item) for item in data.get("results") or []]
    return UserPage(total_count=int(data.get("totalCount", len(results))), results=results)


def _message(response: requests.Response) -> str:
    """JumpCloud's ``message`` (or the status phrase), never the request itself."""
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return str(data["message"])[:500]
    return response.reason or f"HTTP {response.status_code}"
