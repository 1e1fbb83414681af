"""Bad input, faults and concurrency: the emulator answers a documented 4xx, never a 500, and
keeps serving afterwards."""

from __future__ import annotations

import logging
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokenrig.harness.jumpcloud.emulator import Emulator, listing
from tokenrig.harness.jumpcloud.emulator.server import CONTROL_HEADERS

INJECTION_NAMES = [
    "robert'); DROP TABLE users;--",
    '{"$gt": ""}',
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "${jndi:ldap://x/a}",
    "a\x00b",
    "admin\r\nSet-Cookie: x=1",
    "ünïcödé",
]


def still_serving(emu: Emulator, http: requests.Session) -> None:
    assert http.get(emu.url + "/api/systemusers").status_code == 200


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"{not json", "malformed JSON"),
        (b"\xff\xfe", "not UTF-8"),
        (b"[1, 2]", "must be a JSON object"),
        (b'"just a string"', "must be a JSON object"),
        (b'{"unix_uid": ' + b"9" * 5000 + b"}", "malformed JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "malformed JSON"),
    ],
)
def test_malformed_bodies_are_400(
    fresh_emulator: Emulator, emu_http: requests.Session, body: bytes, fragment: str
) -> None:
    response = emu_http.post(
        fresh_emulator.url + "/api/systemusers",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert fragment in response.json()["message"]
    still_serving(fresh_emulator, emu_http)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("username", 42),
        ("email", ["a@example.test"]),
        ("suspended", "yes"),
        ("enable_user_portal_multifactor", 1),
        ("mfa", {"exclusionDays": "seven"}),
        ("mfa", {"exclusion": True, "exclusionUntil": "next tuesday"}),
        ("mfa", {"exclusionDays": 0}),
        ("unix_uid", -5),
        ("addresses", ["not an object"]),
        ("description", "x" * 1025),
        ("state", "DELETED"),
    ],
)
def test_wrong_types_are_400_naming_the_field(
    fresh_emulator: Emulator, emu_http: requests.Session, field: str, value: Any
) -> None:
    body = {"username": "typed", "email": "typed@example.test", field: value}
    response = emu_http.post(fresh_emulator.url + "/api/systemusers", json=body)
    assert response.status_code == 400
    assert field in response.json()["message"] or "state" in response.json()["message"]


@pytest.mark.parametrize("field", ["isAdmin", "_id", "totp_enabled", "mfaEnrollment", "created"])
def test_unknown_or_read_only_fields_are_400(
    fresh_emulator: Emulator, emu_http: requests.Session, field: str
) -> None:
    body = {"username": "typed", "email": "typed@example.test", field: True}
    response = emu_http.post(fresh_emulator.url + "/api/systemusers", json=body)
    assert response.status_code == 400
    assert repr(field) in response.json()["message"]


@pytest.mark.parametrize("name", INJECTION_NAMES)
def test_injection_looking_names_are_400_or_stored_verbatim(
    fresh_emulator: Emulator, emu_http: requests.Session, name: str
) -> None:
    as_username = emu_http.post(
        fresh_emulator.url + "/api/systemusers", json={"username": name, "email": "x@example.test"}
    )
    assert as_username.status_code == 400  # never a valid username
    as_firstname = emu_http.post(
        fresh_emulator.url + "/api/systemusers",
        json={"username": "safe", "email": "safe@example.test", "firstname": name},
    )
    assert as_firstname.status_code == 200
    assert as_firstname.json()["firstname"] == name  # data, not code
    found = emu_http.post(
        fresh_emulator.url + "/api/search/systemusers", json={"filter": [{"firstname": name}]}
    )
    assert found.json()["totalCount"] == 1
    as_filter = emu_http.get(
        fresh_emulator.url + "/api/systemusers", params={"filter": f"firstname:$eq:{name}"}
    )
    assert as_filter.json()["totalCount"] == 1
    as_id = emu_http.get(
        fresh_emulator.url + "/api/systemusers/" + requests.utils.quote(name, safe="")
    )
    assert as_id.status_code in (400, 404)


def test_huge_body_is_413_and_server_survives(
    fresh_emulator: Emulator, emu_http: requests.Session
) -> None:
    huge = {"username": "big", "email": "big@example.test", "description": "x" * (2 << 20)}
    response = emu_http.post(fresh_emulator.url + "/api/systemusers", json=huge)
    assert response.status_code == 413
    still_serving(fresh_emulator, emu_http)


def test_raw_garbage_on_the_socket(fresh_emulator: Emulator, emu_http: requests.Session) -> None:
    host, port = fresh_emulator.url.removeprefix("http://").split(":")
    for garbage in (
        b"\x00\x01\x02garbage\r\n\r\n",
        b"GET / HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
        b"POST /api/systemusers HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
    ):
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(garbage)
            reply = sock.recv(4096)
        assert b"400" in reply  # stdlib parser or our Content-Length check: Bad Request
        assert b"500" not in reply
    still_serving(fresh_emulator, emu_http)


def test_bad_regex_and_search_bodies(fresh_emulator: Emulator, emu_http: requests.Session) -> None:
    url = fresh_emulator.url + "/api/search/systemusers"
    for body in (
        {"filter": [{"username": {"$regex": "(unclosed"}}]},
        {"filter": [{"username": {"$where": "1"}}]},
        {"filter": "username"},
        {"searchFilter": {"searchTerm": 5}},
        {"limit": 1001},
        {"limit": True},
        {"nonsense": 1},
        {"fields": ["username"]},
    ):
        response = emu_http.post(url, json=body)
        assert response.status_code == 400, body


@pytest.mark.parametrize(
    "pattern", ["^(a+)+$", "(a|aa)+$", "(\\w+\\s?)*$", "((ab)*)+c", "^(?:a{1,3})+$"]
)
def test_catastrophic_regex_is_refused_while_others_are_served(
    fresh_emulator: Emulator, emu_http: requests.Session, emulator_key: str, pattern: str
) -> None:
    body = {"username": "victim", "email": "victim@example.test", "firstname": "a" * 28 + "!"}
    assert emu_http.post(fresh_emulator.url + "/api/systemusers", json=body).status_code == 200
    evil = {"filter": [{"firstname": {"$regex": pattern}}]}
    answers: dict[str, requests.Response] = {}

    def search() -> None:
        answers["search"] = requests.post(
            fresh_emulator.url + "/api/search/systemusers",
            json=evil,
            headers={"x-api-key": emulator_key},
            timeout=10,
        )

    searcher = threading.Thread(target=search)
    searcher.start()
    unrelated = requests.get(
        fresh_emulator.url + "/api/systemusers", headers={"x-api-key": emulator_key}, timeout=10
    )
    searcher.join(timeout=10)
    assert unrelated.status_code == 200
    assert answers["search"].status_code == 400
    assert "$regex too complex" in answers["search"].json()["message"]


def test_harmless_regex_groups_still_search(
    fresh_emulator: Emulator, emu_http: requests.Session
) -> None:
    for name in ("specone", "lostone", "other"):
        body = {"username": name, "email": f"{name}@example.test"}
        assert emu_http.post(fresh_emulator.url + "/api/systemusers", json=body).status_code == 200
    found = emu_http.post(
        fresh_emulator.url + "/api/search/systemusers",
        json={"filter": [{"username": {"$regex": "^(spec|lost)(one)?$"}}]},
    )
    assert found.status_code == 200, found.text
    assert sorted(u["username"] for u in found.json()["results"]) == ["lostone", "specone"]


def test_filters_run_outside_the_state_lock(
    fresh_emulator: Emulator, emu_http: requests.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slow filter must not stall other requests: while it runs, the lock is free."""
    body = {"username": "locked", "email": "locked@example.test"}
    assert emu_http.post(fresh_emulator.url + "/api/systemusers", json=body).status_code == 200
    lock_free: list[bool] = []
    original = listing._compare

    def watching(op: str, actual: Any, wanted: Any) -> bool:
        def probe() -> None:
            got = fresh_emulator.state.lock.acquire(timeout=2)
            lock_free.append(got)
            if got:
                fresh_emulator.state.lock.release()

        other = threading.Thread(target=probe)
        other.start()
        other.join()
        return original(op, actual, wanted)

    monkeypatch.setattr(listing, "_compare", watching)
    search = emu_http.post(
        fresh_emulator.url + "/api/search/systemusers",
        json={"filter": [{"username": {"$regex": "^lock"}}]},
    )
    listed = emu_http.get(
        fresh_emulator.url + "/api/systemusers", params={"filter": "username:$eq:locked"}
    )
    assert search.json()["totalCount"] == listed.json()["totalCount"] == 1
    assert lock_free
    assert all(lock_free)


@pytest.mark.parametrize(
    ("method", "path", "params"),
    [
        ("GET", "/api/systemusers", {"sort": "-nosuchfield"}),
        ("GET", "/api/systemusers", {"sortIgnoreCase": "nosuchfield"}),
        ("POST", "/api/search/systemusers", {"sort": "username nosuchfield"}),
    ],
)
def test_unknown_sort_key_is_400_naming_it(
    fresh_emulator: Emulator,
    emu_http: requests.Session,
    method: str,
    path: str,
    params: dict[str, str],
) -> None:
    response = emu_http.request(method, fresh_emulator.url + path, params=params)
    assert response.status_code == 400
    assert "'nosuchfield'" in response.json()["message"]


def test_known_sort_keys_work_on_an_empty_org(
    fresh_emulator: Emulator, emu_http: requests.Session
) -> None:
    for key in ("-created", "username", "recoveryEmail.address", "_id"):
        response = emu_http.get(fresh_emulator.url + "/api/systemusers", params={"sort": key})
        assert response.status_code == 200, (key, response.text)


def test_head_answers_like_get_without_a_body(
    fresh_emulator: Emulator, emu_http: requests.Session
) -> None:
    url = fresh_emulator.url + "/api/systemusers"
    get = emu_http.get(url)
    head = emu_http.head(url)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["Content-Length"] == str(len(get.content))
    assert head.headers["Content-Type"] == get.headers["Content-Type"]
    assert requests.head(url, timeout=5).status_code == 401  # still needs the key
    assert emu_http.head(fresh_emulator.url + "/api/search/systemusers").status_code == 405


def test_request_log_leaves_out_query_strings(
    fresh_emulator: Emulator, emu_http: requests.Session, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="tokenrig.harness.jumpcloud.emulator.server"):
        emu_http.get(fresh_emulator.url + "/activate", params={"token": "tok-SECRET-123"})
    assert "/activate" in caplog.text
    assert "tok-SECRET-123" not in caplog.text


def test_datetime_type_error_names_a_date_time_string(
    fresh_emulator: Emulator, emu_http: requests.Session
) -> None:
    body = {"username": "when", "email": "when@example.test"}
    for extra in ({"external_password_expiration_date": 5}, {"mfa": {"exclusionUntil": 5}}):
        response = emu_http.post(fresh_emulator.url + "/api/systemusers", json={**body, **extra})
        assert response.status_code == 400
        assert "must be of type date-time string" in response.json()["message"], extra


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=20), inner, max_size=5)
    ),
    max_leaves=20,
)
USER_KEYS = st.sampled_from(
    [
        "username",
        "email",
        "state",
        "suspended",
        "mfa",
        "password",
        "enable_user_portal_multifactor",
        "firstname",
        "unix_uid",
        "addresses",
        "alternateEmail",
        "x",
    ]
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.dictionaries(USER_KEYS, JSON, max_size=6) | JSON)
def test_fuzzed_bodies_never_500(
    fresh_emulator: Emulator, emu_http: requests.Session, body: Any
) -> None:
    url = fresh_emulator.url
    user = emu_http.post(
        url + "/api/systemusers", json={"username": "fuzz", "email": "fuzz@example.test"}
    )
    target = user.json()["_id"] if user.status_code == 200 else "0" * 24
    for method, path in (
        ("POST", "/api/systemusers"),
        ("PUT", f"/api/systemusers/{target}"),
        ("POST", "/api/search/systemusers"),
        ("POST", f"/api/systemusers/{target}/resetmfa"),
        ("POST", f"/api/systemusers/{target}/state/activate"),
        ("POST", "/api/systemusers/reactivate"),
        ("PUT", f"/api/organizations/{fresh_emulator.org.id}"),
        ("PUT", "/api/userportal/mfa/totp"),
        ("POST", "/api/v2/bulk/userstates"),
    ):
        response = emu_http.request(method, url + path, json=body)
        assert response.status_code < 500, (method, path, response.text)
        assert response.headers["Content-Type"].startswith(("application/json", "text/plain"))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.text(alphabet=st.characters(codec="ascii", exclude_categories=["Cc"]), max_size=60),
    query=st.text(max_size=40),
)
def test_fuzzed_paths_and_queries_never_500(
    fresh_emulator: Emulator, emu_http: requests.Session, path: str, query: str
) -> None:
    quoted = requests.utils.quote(path, safe="/")
    response = emu_http.get(
        f"{fresh_emulator.url}/api/systemusers/{quoted}?{requests.utils.quote(query, safe='=&')}"
    )
    assert response.status_code < 500
    listing = emu_http.get(
        fresh_emulator.url + "/api/systemusers",
        params={"filter": query, "sort": query, "fields": query},
    )
    assert listing.status_code < 500


# -- faults and rate limit ----------------------------------------------------------------------
def add_fault(emu: Emulator, **fault: Any) -> None:
    response = requests.post(
        emu.url + "/__emulator__/faults", json=fault, headers=CONTROL_HEADERS, timeout=5
    )
    assert response.status_code == 201, response.text


def test_status_fault_then_recovery(fresh_emulator: Emulator, emu_http: requests.Session) -> None:
    add_fault(fresh_emulator, path="^/api/systemusers$", status=503, count=2)
    url = fresh_emulator.url + "/api/systemusers"
    assert [emu_http.get(url).status_code for _ in range(3)] == [503, 503, 200]


def test_fault_controls_validate(fresh_emulator: Emulator) -> None:
    url = fresh_emulator.url + "/__emulator__/faults"
    for bad in (
        {"status": 200},
        {"path": "("},
        {"count": 0, "status": 500},
        {},
        {"status": "500"},
        {"latency": 999},
        {"bogus": 1},
    ):
        assert (
            requests.post(url, json=bad, headers=CONTROL_HEADERS, timeout=5).status_code == 400
        ), bad
    assert requests.get(url, timeout=5).json()["faults"] == []


def test_after_fault_commits_then_loses_the_answer(
    fresh_emulator: Emulator, emu_http: requests.Session
) -> None:
    add_fault(fresh_emulator, path="^/api/systemusers$", status=502, after=True)
    body = {"username": "committed", "email": "committed@example.test"}
    lost = emu_http.post(fresh_emulator.url + "/api/systemusers", json=body)
    assert lost.status_code == 502
    assert lost.json() == {"message": "Bad Gateway"}
    listed = emu_http.get(fresh_emulator.url + "/api/systemusers").json()
    assert [u["username"] for u in listed["results"]] == ["committed"]
    bad = requests.post(
        fresh_emulator.url + "/__emulator__/faults",
        json={"after": True},
        headers=CONTROL_HEADERS,
        timeout=5,
    )
    assert bad.status_code == 400
    assert "needs a status" in bad.json()["message"]


def test_connection_reset_fault(fresh_emulator: Emulator, emu_http: requests.Session) -> None:
    add_fault(fresh_emulator, reset=True)
    with pytest.raises(requests.ConnectionError):
        requests.get(fresh_emulator.url + "/api/systemusers", headers=emu_http.headers, timeout=5)
    still_serving(fresh_emulator, emu_http)


def test_rate_limit_answers_429_with_retry_after(
    fresh_emulator: Emulator, emu_http: requests.Session
) -> None:
    limit = requests.put(
        fresh_emulator.url + "/__emulator__/rate-limit",
        json={"rate": 0.01, "burst": 2},
        headers=CONTROL_HEADERS,
        timeout=5,
    )
    assert limit.status_code == 200
    statuses = [emu_http.get(fresh_emulator.url + "/api/systemusers") for _ in range(3)]
    assert [r.status_code for r in statuses] == [200, 200, 429]
    assert int(statuses[2].headers["Retry-After"]) >= 1
    assert statuses[2].json() == {"message": "Too Many Requests"}
    # Controls are never rate limited.
    assert requests.get(fresh_emulator.url + "/__emulator__/clock", timeout=5).status_code == 200


# -- concurrency ------------------------------------------------------------------------------
def test_twenty_threads_create_distinct_users(fresh_emulator: Emulator, emulator_key: str) -> None:
    url = fresh_emulator.url + "/api/systemusers"

    def work(worker: int) -> list[str]:
        with requests.Session() as http:
            http.headers["x-api-key"] = emulator_key
            ids = []
            for n in range(10):
                response = http.post(
                    url, json={"username": f"w{worker}-{n}", "email": f"w{worker}-{n}@example.test"}
                )
                assert response.status_code == 200, response.text
                ids.append(response.json()["_id"])
            return ids

    with ThreadPoolExecutor(20) as pool:
        ids = [i for batch in pool.map(work, range(20)) for i in batch]
    assert len(set(ids)) == 200
    with requests.Session() as http:
        http.headers["x-api-key"] = emulator_key
        assert http.get(url).json()["totalCount"] == 200


def test_racing_duplicates_only_one_wins(fresh_emulator: Emulator, emulator_key: str) -> None:
    url = fresh_emulator.url + "/api/systemusers"
    barrier = threading.Barrier(20)

    def attempt(_: int) -> int:
        barrier.wait()
        response = requests.post(
            url,
            headers={"x-api-key": emulator_key},
            json={"username": "dup", "email": "dup@example.test"},
            timeout=10,
        )
        return response.status_code

    with ThreadPoolExecutor(20) as pool:
        codes = sorted(pool.map(attempt, range(20)))
    assert codes == [200] + [400] * 19
