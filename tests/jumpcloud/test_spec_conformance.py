"""Every console-API operation the emulator implements answers what JumpCloud's published spec
says (status code and body schema), and every request the client sends fits the spec's
parameters and body schemas: the check that keeps both honest for the real service.

The spec copies (Swagger 2.0, from TheJumpCloud/jcapi-powershell) live outside the project:
``$TOKENRIG_JUMPCLOUD_SPEC_DIR``, default ``<repo>/../shared/reference/jumpcloud``. Without
them the module skips, naming the directory, except in CI (``CI`` set), where it fails.

Caveats of those copies (their README): operationIds are renamed, some operations survive only
as stubs without a schema (``/systemusers/reactivate``, ``/userportal/mfa/totp``), and
``state/activate``'s ``email`` was retyped to string. Those cases are listed in ``SPEC_GAPS``
and checked for exactly that gap, not skipped.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonschema
import pytest
import requests

from tokenrig.harness.clock import VirtualClock
from tokenrig.harness.jumpcloud import (
    BadRequest,
    JumpCloudClient,
    NotFound,
    RateLimited,
    Unauthorized,
    UserState,
)
from tokenrig.harness.jumpcloud.emulator import Emulator
from tokenrig.harness.jumpcloud.emulator.faults import Fault
from tokenrig.harness.jumpcloud.emulator.user_schema import (
    DATETIME,
    RETURN_ONLY_FIELDS,
    USER_FIELDS,
)
from tokenrig.harness.jumpcloud.errors import PayloadTooLarge
from tokenrig.harness.jumpcloud.retry import NO_RETRY
from tokenrig.harness.secrets import Secret, SecretText

REPO = Path(__file__).resolve().parents[2]
SPEC_DIR = Path(
    os.environ.get("TOKENRIG_JUMPCLOUD_SPEC_DIR") or REPO.parent / "shared/reference/jumpcloud"
)
V1_FILE = "jcapi-powershell.JumpCloud.SDK.V1.swagger.json"
V2_FILE = "jumpcloud-v2-users-mfa.subset.swagger.json"
OAS3_2023_FILE = "jumpcloud-v1-systemusers-mfa.subset.openapi3.2023.yaml"
"""The older OAS3 conversion, which kept the per-operation error responses."""

UNDOCUMENTED_ERRORS = {
    ("GET", "/systemusers", 400): "limit > 100: the service's own text, the spec lists only 401",
    ("GET", "/systemusers/{id}", 404): "a deleted user: the spec lists only 401",
    ("GET", "/systemusers/{id}/totpinfo", 404): "operation newer than the 2023 copy",
    ("POST", "/systemusers", 413): "transport limit: no operation documents 413",
    ("GET", "/systemusers", 429): "rate limit: no operation documents 429",
}
"""Error statuses the emulator answers that the 2023 spec does not list for the operation."""

SPEC_GAPS = {
    ("POST", "/systemusers/reactivate"): "stub: the public spec has no operation",
    ("GET", "/userportal/mfa/totp"): "stub: the public spec has no operation",
    ("PUT", "/userportal/mfa/totp"): "stub: the public spec has no operation",
}
"""Operations whose path exists in the spec only as a stub (no method, no schema)."""


def _spec_path(name: str) -> Path:
    path = SPEC_DIR / name
    if not path.is_file():
        message = (
            f"JumpCloud spec copy {path} is missing; set TOKENRIG_JUMPCLOUD_SPEC_DIR to the"
            " directory holding the jcapi-powershell Swagger files"
        )
        if os.environ.get("CI") or os.environ.get("TOKENRIG_JUMPCLOUD_SPEC_DIR"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def _load(name: str) -> dict[str, Any]:
    return dict(json.loads(_spec_path(name).read_text()))


def _documented_errors(yaml_text: str) -> dict[tuple[str, str], set[int]]:
    """(METHOD, path template) → the 4xx/5xx statuses its ``responses`` list, read from the
    OAS3 file's block layout (paths at 2 spaces, methods at 4, status keys at 8) without a
    YAML library. Returns only operations that list at least one response."""
    found: dict[tuple[str, str], set[int]] = {}
    in_paths, path, method = False, "", ""
    for line in yaml_text.splitlines():
        if re.match(r"\S", line):
            in_paths = line.startswith("paths:")
            continue
        if not in_paths:
            continue
        if m := re.match(r"  (/\S*):$", line):
            path, method = m.group(1), ""
        elif m := re.match(r"    (get|put|post|delete|patch|head):$", line):
            method = m.group(1).upper()
        elif (m := re.match(r"        '(\d{3})':$", line)) and method:
            found.setdefault((method, path), set()).add(int(m.group(1)))
    return {op: {s for s in codes if s >= 400} for op, codes in found.items()}


@pytest.fixture(scope="module")
def documented_errors() -> dict[tuple[str, str], set[int]]:
    return _documented_errors(_spec_path(OAS3_2023_FILE).read_text())


def _nullable(node: Any) -> Any:
    """Swagger 2.0 ``x-nullable`` → JSON Schema ``type: [t, "null"]`` (draft 4)."""
    if isinstance(node, dict):
        node = {k: _nullable(v) for k, v in node.items()}
        if node.get("x-nullable"):
            if "type" in node:
                node["type"] = [node["type"], "null"]
            elif "$ref" in node:
                node = {"anyOf": [{"$ref": node["$ref"]}, {"type": "null"}]}
        return node
    if isinstance(node, list):
        return [_nullable(item) for item in node]
    return node


FORMATS = jsonschema.FormatChecker(formats=())


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    if isinstance(value, str):
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return stamp.tzinfo is not None
    return True


@dataclass
class Spec:
    """One Swagger file: operations by (method, template), schemas with $refs resolvable."""

    doc: dict[str, Any]
    base: str

    def __post_init__(self) -> None:
        self.definitions = _nullable(self.doc["definitions"])
        self.templates = [
            (re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", p) + "$"), p) for p in self.doc["paths"]
        ]

    def template(self, path: str) -> str | None:
        rest = path[len(self.base) :]
        matches = [t for rx, t in self.templates if rx.match(rest)]
        # Prefer literal segments (/systemusers/reactivate over /systemusers/{id}).
        return min(matches, key=lambda t: t.count("{")) if matches else None

    def operation(self, method: str, template: str) -> dict[str, Any] | None:
        op = self.doc["paths"][template].get(method.lower())
        return dict(op) if isinstance(op, dict) else None

    def parameters(self, method: str, template: str) -> list[dict[str, Any]]:
        op = self.operation(method, template) or {}
        params = [*self.doc["paths"][template].get("parameters", []), *op.get("parameters", [])]
        return [
            self.doc["parameters"][p["$ref"].split("/")[-1]] if "$ref" in p else p for p in params
        ]

    def validate(self, schema: dict[str, Any], instance: Any) -> None:
        root = {**_nullable(copy.deepcopy(schema)), "definitions": self.definitions}
        jsonschema.Draft4Validator(root, format_checker=FORMATS).validate(instance)


@pytest.fixture(scope="module")
def v1() -> Spec:
    return Spec(_load(V1_FILE), "/api")


@pytest.fixture(scope="module")
def v2() -> Spec:
    return Spec(_load(V2_FILE), "/api/v2")


@dataclass
class Exchange:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    status: int
    response: requests.Response
    deliberate: bool = False
    """A request made wrong on purpose (to draw an error): its request is not spec-checked."""


@pytest.fixture(scope="module")
def exchanges() -> Iterator[list[Exchange]]:
    """Every operation the client offers, run once against a fresh emulator and recorded."""
    recorded: list[Exchange] = []
    deliberate = [False]

    def record(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        request = response.request
        split = urlsplit(request.url or "")
        body = json.loads(request.body) if request.body else None
        recorded.append(
            Exchange(
                request.method or "",
                split.path,
                parse_qs(split.query),
                body,
                response.status_code,
                response,
                deliberate[0],
            )
        )

    with Emulator(api_key="spec-key", clock=VirtualClock()) as emu:
        session = requests.Session()
        session.hooks["response"].append(record)
        client = JumpCloudClient.connect(emu.url, "spec-key", session=session)
        until = datetime.now(UTC) + timedelta(days=5)
        staged = client.create_user(
            "specstaged",
            "specstaged@example.test",
            state=UserState.STAGED,
            require_mfa=True,
            mfa_exclusion_days=3,
        )
        active = client.create_user(
            "specactive",
            "specactive@example.test",
            firstname="Spec",
            password=SecretText("Spec-Pass-2026", "password"),
            require_mfa=True,
            mfa_exclusion_until=until,
            extra={"department": "QA", "phoneNumbers": [{"number": "1", "type": "work"}]},
        )
        client.get_user(active.id)
        client.list_users(
            limit=5, sort="-username", filters=["username:$eq:specactive"], fields="username email"
        )
        client.search_users(
            [{"username": "specactive"}], search_term="spec", search_fields=["username"]
        )
        client.update_user(active.id, lastname="Conformant", suspended=False, state="ACTIVATED")
        client.require_mfa(active.id, days=4)
        client.activate_user(staged.id, email="other@example.test")
        client.resend_activation([staged.id])
        with emu.state.lock:
            user = emu.state.users[active.id]
            emu.state.start_totp_enrollment(user, Secret(b"12345678901234567890", "seed"))
            emu.state.complete_totp_enrollment(user)
        client.totp_enrollment_date(active.id)
        client.reset_mfa(active.id, exclusion=True, until=until)
        client.totp_enrollment_date(active.id)  # 404 now
        deliberate[0] = True
        with pytest.raises(BadRequest, match="already exists"):
            client.create_user("specactive", "specother@example.test")
        with pytest.raises(BadRequest, match="limit"):
            client.list_users(limit=101)
        with pytest.raises(PayloadTooLarge):
            client.create_user(
                "spechuge", "spechuge@example.test", extra={"lastname": "x" * (2 << 20)}
            )
        stranger = JumpCloudClient.connect(emu.url, "not-the-key", session=session)
        with pytest.raises(Unauthorized):
            stranger.list_users()
        emu.faults.add(Fault(path="^/api/systemusers$", status=429))
        impatient = JumpCloudClient.connect(emu.url, "spec-key", session=session, retry=NO_RETRY)
        with pytest.raises(RateLimited):
            impatient.list_users()
        deliberate[0] = False
        client.unlock_user(active.id)
        client.request("POST", f"/api/systemusers/{active.id}/expire")
        client.request("POST", f"/api/systemusers/{active.id}/mfasync")
        org = client.organization()
        client.update_organization_settings({"passwordPolicy": {"maxLoginAttempts": 6}}, org.id)
        client.set_totp_factor(False)
        client.totp_factor()
        jobs = client.schedule_user_state([active.id], UserState.SUSPENDED, until)
        client.scheduled_user_states(active.id)
        client.cancel_scheduled_user_state(jobs[0].job_id)
        client.delete_user(staged.id)
        with pytest.raises(NotFound):
            client.get_user(staged.id)
        client.delete_user(active.id)
        client.close()
        yield recorded


def _spec_for(path: str, v1: Spec, v2: Spec) -> Spec:
    return v2 if path.startswith("/api/v2/") else v1


def test_every_console_route_was_exercised(exchanges: list[Exchange], v1: Spec, v2: Spec) -> None:
    with Emulator(api_key="k") as emu:
        routes = {
            (route.method, re.sub(r"\(\?P<id>[^)]*\)", "{id}", route.pattern.pattern))
            for route in emu.router.routes
            if route.auth
        }
    seen = set()
    for exchange in exchanges:
        spec = _spec_for(exchange.path, v1, v2)
        template = spec.template(exchange.path)
        assert template is not None, f"{exchange.path} is not in the spec at all"
        seen.add((exchange.method, spec.base + template))
    assert routes <= seen, f"routes never exercised against the spec: {sorted(routes - seen)}"


def test_responses_match_spec(exchanges: list[Exchange], v1: Spec, v2: Spec) -> None:
    checked = stubs = 0
    for ex in exchanges:
        spec = _spec_for(ex.path, v1, v2)
        template = spec.template(ex.path)
        assert template is not None
        op = spec.operation(ex.method, template)
        where = f"{ex.method} {ex.path} -> {ex.status}"
        if op is None:
            assert (ex.method, template) in SPEC_GAPS, f"{where}: no such operation in the spec"
            assert set(spec.doc["paths"][template]) == {"x-functionalities-tags"}, where
            stubs += 1
            continue
        if ex.status >= 400:
            error = ex.response.json()
            try:
                v1.validate({"$ref": "#/definitions/Error"}, error)
            except jsonschema.ValidationError as exc:
                pytest.fail(f"{where}: error body {exc.message}")
            assert isinstance(error.get("message"), str), where
            assert error["message"], where
            checked += 1
            continue
        responses = op["responses"]
        assert str(ex.status) in responses, f"{where}: spec documents {sorted(responses)}"
        schema = responses[str(ex.status)].get("schema")
        if schema is None:
            assert ex.response.content in (b"", b'""'), f"{where}: spec declares no body"
        else:
            body = ex.response.json()
            if schema.get("type") == "string":  # `200: string` = empty or text body
                assert not ex.response.content or isinstance(body, str), where
            else:
                try:
                    spec.validate(schema, body)
                except jsonschema.ValidationError as exc:
                    pytest.fail(f"{where}: {exc.message} at {list(exc.absolute_path)}")
        checked += 1
    assert stubs == len(SPEC_GAPS)  # each stub operation once, nothing else unchecked
    assert checked == len(exchanges) - stubs


def test_error_answers_were_recorded(exchanges: list[Exchange]) -> None:
    """The error paths above really ran (a status the client never drew is not checked)."""
    statuses = {(ex.method, ex.status) for ex in exchanges if ex.status >= 400}
    assert {("POST", 400), ("GET", 400), ("POST", 413), ("GET", 401), ("GET", 429)} <= statuses
    assert ("GET", 404) in statuses


def test_error_statuses_are_the_documented_ones(
    exchanges: list[Exchange],
    v1: Spec,
    v2: Spec,
    documented_errors: dict[tuple[str, str], set[int]],
) -> None:
    """Each error status is one the 2023 spec lists for that operation, or a known exception."""
    used = set()
    for ex in exchanges:
        if ex.status < 400:
            continue
        spec = _spec_for(ex.path, v1, v2)
        template = spec.template(ex.path)
        assert template is not None
        key = (ex.method, template, ex.status)
        if ex.status in documented_errors.get((ex.method, template), set()):
            assert key not in UNDOCUMENTED_ERRORS, f"{key} is documented now; drop the exception"
            continue
        assert key in UNDOCUMENTED_ERRORS, f"{key}: the spec lists {documented_errors.get(key[:2])}"
        used.add(key)
    assert used == set(UNDOCUMENTED_ERRORS), "exceptions no exchange needed any more"
    assert documented_errors[("POST", "/systemusers")] >= {400, 401}  # the scan read the file


def test_requests_match_spec(exchanges: list[Exchange], v1: Spec, v2: Spec) -> None:
    for ex in exchanges:
        spec = _spec_for(ex.path, v1, v2)
        template = spec.template(ex.path)
        assert template is not None
        if spec.operation(ex.method, template) is None or ex.deliberate:
            continue  # stub (see SPEC_GAPS) or a request made wrong on purpose
        params = spec.parameters(ex.method, template)
        where = f"{ex.method} {ex.path}"
        declared = {p["name"] for p in params if p["in"] == "query"}
        if template == "/search/systemusers":
            declared |= {
                "limit",
                "skip",
                "fields",
                "filter",
            }  # removed by the transform; public spec has them
        assert set(ex.query) <= declared, f"{where}: undeclared query {set(ex.query) - declared}"
        body_param = next((p for p in params if p["in"] == "body"), None)
        if ex.body is None:
            continue
        assert body_param is not None, f"{where}: the spec takes no body"
        schema = body_param["schema"]
        if template == "/systemusers/{id}/state/activate" and isinstance(
            ex.body.get("email"), bool
        ):
            # Gap: the transform retyped `email` (bool | address) to string; a string must pass.
            with pytest.raises(jsonschema.ValidationError, match="is not of type 'string'"):
                spec.validate(schema, ex.body)
            continue
        try:
            spec.validate(schema, ex.body)
        except jsonschema.ValidationError as exc:
            pytest.fail(f"{where}: request body {exc.message} at {list(exc.absolute_path)}")


def test_user_field_table_matches_spec(v1: Spec) -> None:
    definitions = v1.doc["definitions"]
    post = definitions["systemuserputpost"]["properties"]
    put = definitions["systemuserput"]["properties"]
    assert {n for n, f in USER_FIELDS.items() if f.post} == set(post)
    assert {n for n, f in USER_FIELDS.items() if f.put} == set(put)
    kinds = {
        "string": "string",
        "boolean": "boolean",
        "integer": "integer",
        "array": "array",
        "object": "object",
    }
    for name, field in USER_FIELDS.items():
        declared = (post.get(name) or put.get(name) or {}).get("type")
        if declared and field.kind != DATETIME:
            assert kinds[declared] == field.kind, name
        if name in post and "maxLength" in post[name]:
            assert field.max_length == post[name]["maxLength"], name
        if name in put and put[name].get("type") == "string":
            # PUT types some fields apart from POST (a plain string for a date-time).
            expected = DATETIME if put[name].get("format") == "date-time" else "string"
            assert (field.put_kind or field.kind) == expected, name
    assert set(definitions["systemuserput"]["properties"]["state"]["enum"]) == {
        "ACTIVATED",
        "SUSPENDED",
    }


def test_user_shape_covers_spec_return_fields(v1: Spec) -> None:
    with Emulator(api_key="k") as emu:
        http = requests.Session()
        http.headers["x-api-key"] = "k"
        user = http.post(
            emu.url + "/api/systemusers", json={"username": "shape", "email": "shape@example.test"}
        ).json()
    declared = set(v1.doc["definitions"]["systemuserreturn"]["properties"])
    assert declared - set(user) == set(), "fields the spec returns that the emulator omits"
    assert set(user) <= set(USER_FIELDS) | RETURN_ONLY_FIELDS, "fields sort would refuse"
    statuses = set(v1.doc["definitions"]["mfaEnrollmentStatus"]["enum"])
    assert set(user["mfaEnrollment"].values()) <= statuses


def test_a_user_read_with_get_writes_back_with_put_unchanged(v1: Spec) -> None:
    """Read-modify-write as an SDK does it: the GET body, cut to ``systemuserput``'s fields,
    fits that schema and PUTs back with 200, and the next GET is identical."""
    put_schema = {"$ref": "#/definitions/systemuserput"}
    put_fields = set(v1.doc["definitions"]["systemuserput"]["properties"])
    with Emulator(api_key="k", clock=VirtualClock()) as emu:
        http = requests.Session()
        http.headers["x-api-key"] = "k"
        boss = http.post(
            emu.url + "/api/systemusers", json={"username": "boss", "email": "boss@example.test"}
        ).json()
        created = http.post(
            emu.url + "/api/systemusers",
            json={
                "username": "rmw",
                "email": "rmw@example.test",
                "company": "Example",
                "manager": boss["_id"],
                "addresses": [{"type": "work", "locality": "Town"}],
                "enable_user_portal_multifactor": True,
                "mfa": {"exclusion": True, "exclusionDays": 5},
            },
        )
        assert created.status_code == 200, created.text
        url = f"{emu.url}/api/systemusers/{created.json()['_id']}"
        before = http.get(url).json()
        assert before["external_password_expiration_date"] == ""  # the case that broke
        body = {k: v for k, v in before.items() if k in put_fields}
        v1.validate(put_schema, body)
        written = http.put(url, json=body)
        assert written.status_code == 200, written.text
        assert http.get(url).json() == before
