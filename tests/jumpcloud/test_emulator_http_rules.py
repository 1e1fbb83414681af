"""HTTP rules the emulator follows that a schema fuzzer and a browser probe once broke: no
NaN/Infinity and no lone surrogates in or out, 405 with ``Allow``, OPTIONS/TRACE answered, and
the ``/__emulator__/`` controls out of reach of a web page (Host, Origin, JSON + header)."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import pytest
import requests

from tokenrig.harness.jumpcloud.emulator import Emulator
from tokenrig.harness.jumpcloud.emulator.server import CONTROL_HEADER, CONTROL_HEADERS


def raw(
    emu: Emulator, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One request with exactly the headers given (``requests`` would fix up Host)."""
    where = urlsplit(emu.url)
    conn = http.client.HTTPConnection(where.hostname or "", where.port, timeout=5)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        sent = {"Host": where.netloc, **(headers or {})}
        for name, value in sent.items():
            conn.putheader(name, value)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        answer = conn.getresponse()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
    finally:
        conn.close()


# -- JSON in and out ----------------------------------------------------------------------------


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused(
    fresh_emulator: Emulator, emu_http: requests.Session, constant: str
) -> None:
    body = '{"username": "nan", "email": "nan@example.test", "unix_uid": ' + constant + "}"
    response = emu_http.post(
        fresh_emulator.url + "/api/systemusers",
        data=body.encode(),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert f"{constant} is not a JSON number" in response.json()["message"]
    assert emu_http.get(fresh_emulator.url + "/api/systemusers").json()["totalCount"] == 0


def test_nan_in_org_settings_is_refused_and_never_echoed(
    fresh_emulator: Emulator, emu_http: requests.Session
) -> None:
    org = fresh_emulator.org.id
    url = f"{fresh_emulator.url}/api/organizations/{org}"
    body = b'{"settings": {"passwordPolicy": {"minLength": NaN}}}'
    response = emu_http.put(url, data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    text = emu_http.get(url).text
    json.loads(text, parse_constant=lambda name: pytest.fail(f"answer holds {name}"))


def test_lone_surrogate_is_refused_naming_the_field(
    fresh_emulator: Emulator, emu_http: requests.Session
) -> None:
    # json.dumps escapes the surrogate as \ud800, which is how a fuzzer sends it.
    body = json.dumps({"username": "sur", "email": "sur@example.test", "firstname": "a\ud800b"})
    response = emu_http.post(
        fresh_emulator.url + "/api/systemusers",
        data=body.encode(),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert "firstname contains a lone UTF-16 surrogate" in response.json()["message"]
    nested = json.dumps(
        {"username": "s2", "email": "s2@example.test", "addresses": [{"a": "\udfff"}]}
    )
    response = emu_http.post(
        fresh_emulator.url + "/api/systemusers",
        data=nested.encode(),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert "addresses[0].a" in response.json()["message"]


# -- methods --------------------------------------------------------------------------------------


def test_wrong_method_is_405_with_allow(fresh_emulator: Emulator) -> None:
    status, headers, body = raw(fresh_emulator, "PATCH", "/api/systemusers")
    assert status == 405
    assert set(headers["allow"].split(", ")) == {"GET", "HEAD", "POST", "OPTIONS"}
    assert json.loads(body)["message"] == "Method Not Allowed"
    status, headers, _ = raw(fresh_emulator, "POST", "/api/organizations")
    assert status == 405
    assert set(headers["allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


def test_options_is_204_with_allow_and_no_cors(fresh_emulator: Emulator) -> None:
    status, headers, body = raw(
        fresh_emulator, "OPTIONS", "/__emulator__/reset", headers={"Origin": "http://evil.test"}
    )
    assert status == 204
    assert body == b""
    assert set(headers["allow"].split(", ")) == {"POST", "OPTIONS"}
    assert not any(name.startswith("access-control-") for name in headers)


def test_trace_is_405_not_501(fresh_emulator: Emulator) -> None:
    status, headers, _ = raw(fresh_emulator, "TRACE", "/api/systemusers")
    assert status == 405
    assert "TRACE" not in headers["allow"]
    status, _, _ = raw(fresh_emulator, "TRACE", "/no/such/path")
    assert status == 404


# -- control-route protection ---------------------------------------------------------------------


def _create_user(emu: Emulator, http_: requests.Session) -> None:
    body = {"username": "kept", "email": "kept@example.test"}
    assert http_.post(emu.url + "/api/systemusers", json=body).status_code == 200


def _user_count(emu: Emulator, http_: requests.Session) -> int:
    count: int = http_.get(emu.url + "/api/systemusers").json()["totalCount"]
    return count


@pytest.mark.parametrize(
    "host", ["evil.test", "evil.test:80", "127.0.0.1.evil.test", "localhost.evil.test"]
)
def test_controls_refuse_a_foreign_host(
    fresh_emulator: Emulator, emu_http: requests.Session, host: str
) -> None:
    """DNS rebinding: a page on evil.test resolving to 127.0.0.1 sends its own Host."""
    _create_user(fresh_emulator, emu_http)
    headers = {"Host": host, **CONTROL_HEADERS}
    status, _, body = raw(fresh_emulator, "POST", "/__emulator__/reset", b"{}", headers)
    assert status == 403
    assert "Host" in json.loads(body)["message"]
    status, _, _ = raw(fresh_emulator, "GET", "/__emulator__/outbox", headers={"Host": host})
    assert status == 403
    assert _user_count(fresh_emulator, emu_http) == 1


def test_controls_refuse_cross_origin(fresh_emulator: Emulator, emu_http: requests.Session) -> None:
    _create_user(fresh_emulator, emu_http)
    headers = {"Origin": "http://evil.test", **CONTROL_HEADERS}
    status, _, body = raw(fresh_emulator, "POST", "/__emulator__/reset", b"{}", headers)
    assert status == 403
    assert "cross-origin" in json.loads(body)["message"]
    status, _, _ = raw(
        fresh_emulator, "GET", "/__emulator__/outbox", headers={"Origin": "http://evil.test"}
    )
    assert status == 403  # a page cannot read activation links either
    assert _user_count(fresh_emulator, emu_http) == 1


def test_controls_refuse_a_simple_cross_site_post(
    fresh_emulator: Emulator, emu_http: requests.Session
) -> None:
    """What a <form> or fetch(no-cors) can send without a preflight: text/plain, no header."""
    _create_user(fresh_emulator, emu_http)
    status, _, body = raw(
        fresh_emulator, "POST", "/__emulator__/reset", b"{}", {"Content-Type": "text/plain"}
    )
    assert status == 403
    assert "application/json" in json.loads(body)["message"]
    status, _, body = raw(
        fresh_emulator, "POST", "/__emulator__/reset", b"{}", {"Content-Type": "application/json"}
    )
    assert status == 403
    assert CONTROL_HEADER in json.loads(body)["message"]
    assert _user_count(fresh_emulator, emu_http) == 1


def test_controls_answer_a_loopback_client_with_the_header(
    fresh_emulator: Emulator, emu_http: requests.Session
) -> None:
    _create_user(fresh_emulator, emu_http)
    same_origin = {"Origin": fresh_emulator.url, **CONTROL_HEADERS}
    status, _, _ = raw(fresh_emulator, "POST", "/__emulator__/reset", b"{}", same_origin)
    assert status == 200
    assert _user_count(fresh_emulator, emu_http) == 0
    port = urlsplit(fresh_emulator.url).port
    status, _, _ = raw(
        fresh_emulator, "GET", "/__emulator__/clock", headers={"Host": f"localhost:{port}"}
    )
    assert status == 200
