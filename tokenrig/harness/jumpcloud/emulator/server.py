"""The emulator's HTTP frame: a threaded stdlib server on loopback and a tiny router.

Route modules register handlers by method and a regular expression matched against the whole
path (``re.fullmatch``); named groups become ``request.params``::

    def register(router: Router, state: EmulatorState) -> None:
        router.add("GET", r"/api/systemusers/(?P<id>[^/]+)", get_user, auth=True)

A handler takes a :class:`Request` and returns a :class:`Response` (use :func:`json_response`,
:func:`html_response`, :func:`redirect`, :func:`empty`), or raises
:class:`~tokenrig.harness.jumpcloud.emulator.models.EmulatorError` for a ``{"message": ...}`` error.
``auth=True`` routes get ``request.org`` resolved from ``x-api-key`` (and ``x-org-id``); the
frame answers 401 itself when the key is missing or wrong. Faults and the rate limit apply only
to ``/api/`` and ``/userconsole/`` paths, never to ``/__emulator__/``.

Which modules register routes (in this order, see :func:`build_router`):

* ``console`` — the V1/V2 console API (API-key auth);
* ``controls`` — emulator-only controls under ``/__emulator__/``;
* ``portal`` — *optional*: if ``tokenrig.harness.jumpcloud.emulator.portal`` is importable, its
  ``register(router: Router, state: EmulatorState) -> None`` is called; it owns the user
  portal's HTML pages and ``/userconsole/*`` JSON (no API-key auth: cookies);
* ``mail`` — *optional*: if ``tokenrig.harness.jumpcloud.emulator.mail`` defines
  ``compose(state, kind, user, to, link) -> MailMessage`` it becomes ``state.mail_composer``.

Every handler runs in its own thread; take ``state.lock`` around state access.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import re
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tokenrig.harness.clock import Clock
from tokenrig.harness.jumpcloud.emulator.faults import Fault, FaultPlan
from tokenrig.harness.jumpcloud.emulator.models import EmulatorError, EmulatorState, Organization
from tokenrig.harness.jumpcloud.emulator.portal_looks import PortalLook
from tokenrig.harness.secrets import SECRET, redacted

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1 << 20
"""Bodies above 1 MiB are refused with 413 before they are read."""

OBJECT_ID = re.compile(r"[0-9a-f]{24}")
CONTROL_PREFIX = "/__emulator__/"
CONTROL_HEADER = "X-Tokenrig-Emulator"
"""Header a state-changing control request must carry (any non-empty value). A web page can
only send a custom header cross-origin after a CORS preflight, which the emulator never grants."""
CONTROL_HEADERS = {CONTROL_HEADER: "1", "Content-Type": "application/json"}
"""What a control client sends with every state-changing call (requests' ``json=`` sets the
same Content-Type)."""
_LOOPBACK_HOST = re.compile(r"(127\.0\.0\.1|localhost|\[::1\])(:\d{1,5})?", re.IGNORECASE)
_QUERY = re.compile(r"\?[^\s\"']*")
"""A query string inside a logged request line."""


@redacted
@dataclass
class Request:
    """What a handler sees of one HTTP request."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str] = field(metadata=SECRET)
    """Header names lower-cased."""
    body: bytes = field(metadata=SECRET)
    params: dict[str, str] = field(default_factory=dict)
    org: Organization | None = None

    def json(self) -> Any:
        """The body as JSON; a malformed or non-UTF-8 body is a 400 naming the problem.

        ``NaN``/``Infinity`` (not JSON, RFC 8259 section 6) and lone UTF-16 surrogates in
        strings (not Unicode text: they cannot be stored, echoed or rendered) are refused here,
        so no handler ever stores a value it cannot answer with."""
        if not self.body.strip():
            return None
        try:
            data = json.loads(self.body.decode("utf-8"), parse_constant=_refuse_constant)
        except UnicodeDecodeError as exc:
            raise EmulatorError("Bad Request: body is not UTF-8") from exc
        except json.JSONDecodeError as exc:
            raise EmulatorError(
                f"Bad Request: malformed JSON body (line {exc.lineno} column {exc.colno})"
            ) from exc
        except (ValueError, RecursionError) as exc:  # e.g. an integer of 5000 digits
            raise EmulatorError("Bad Request: malformed JSON body (value out of range)") from exc
        _refuse_surrogates(data)
        return data

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object (``{}`` for an empty body)."""
        data = self.json()
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise EmulatorError("Bad Request: body must be a JSON object")
        return data

    def query_one(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    @property
    def cookies(self) -> dict[str, str]:
        jar: SimpleCookie = SimpleCookie()
        with contextlib.suppress(Exception):
            jar.load(self.headers.get("cookie", ""))
        return {key: morsel.value for key, morsel in jar.items()}

    def require_org(self) -> Organization:
        if self.org is None:  # a route registered without auth=True asked for the org
            raise EmulatorError("Unauthorized", 401)
        return self.org


def _refuse_constant(name: str) -> Any:
    raise EmulatorError(f"Bad Request: {name} is not a JSON number")


def _refuse_surrogates(data: Any, where: str = "body") -> None:
    """A 400 naming the field when a string (or key) holds a lone surrogate (``\\ud800``)."""
    stack: list[tuple[Any, str]] = [(data, where)]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            if _has_surrogate(value):
                raise EmulatorError(f"Bad Request: {path} contains a lone UTF-16 surrogate")
        elif isinstance(value, dict):
            for key, item in value.items():
                if _has_surrogate(key):
                    raise EmulatorError(f"Bad Request: a key in {path} contains a lone surrogate")
                stack.append((item, f"{path}.{key}" if path != "body" else key))
        elif isinstance(value, list):
            stack.extend((item, f"{path}[{i}]") for i, item in enumerate(value))


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


@redacted
@dataclass
class Response:
    status: int = 200
    body: bytes = field(default=b"", metadata=SECRET)
    content_type: str = "application/json; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list, metadata=SECRET)


def json_response(
    data: Any, status: int = 200, headers: list[tuple[str, str]] | None = None
) -> Response:
    # allow_nan=False: never answer with NaN/Infinity, which no JSON parser has to accept.
    body = json.dumps(data, separators=(",", ":"), allow_nan=False).encode()
    return Response(status=status, body=body, headers=list(headers or []))


def error_response(
    status: int, message: str, headers: list[tuple[str, str]] | None = None
) -> Response:
    return json_response({"message": message}, status, headers)


def html_response(
    text: str, status: int = 200, headers: list[tuple[str, str]] | None = None
) -> Response:
    return Response(
        status=status,
        body=text.encode("utf-8", errors="replace"),  # never a 500 over one bad character
        content_type="text/html; charset=utf-8",
        headers=list(headers or []),
    )


def redirect(
    location: str, status: int = 302, headers: list[tuple[str, str]] | None = None
) -> Response:
    return Response(
        status=status,
        content_type="text/plain; charset=utf-8",
        headers=[("Location", location), *(headers or [])],
    )


def empty(status: int = 200, content_type: str = "text/plain; charset=utf-8") -> Response:
    return Response(status=status, content_type=content_type)


Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    auth: bool


class Router:
    """Method + full-path regex → handler. First registered match wins."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, pattern: str, handler: Handler, *, auth: bool = False) -> None:
        self.routes.append(Route(method.upper(), re.compile(pattern), handler, auth))

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | frozenset[str] | None:
        """The route and its params; the methods the path allows when only the method is
        wrong (a 405 with ``Allow``); None when no route has the path.
        ``HEAD`` runs the ``GET`` route (RFC 9110: same headers, no body)."""
        allowed: set[str] = set()
        for route in self.routes:
            found = route.pattern.fullmatch(path)
            if found is None:
                continue
            if route.method == method or (method == "HEAD" and route.method == "GET"):
                return route, found.groupdict()  # HEAD = GET; _send drops the body
            allowed.add(route.method)
        if not allowed:
            return None
        if "GET" in allowed:
            allowed.add("HEAD")
        return frozenset(allowed | {"OPTIONS"})


def build_router(state: EmulatorState, faults: FaultPlan) -> Router:
    """Register the console API, the controls and (when present) the portal and mail."""
    from tokenrig.harness.jumpcloud.emulator import console, controls

    router = Router()
    console.register(router, state)
    controls.register(router, state, faults)
    for optional in ("portal", "mail"):
        name = f"tokenrig.harness.jumpcloud.emulator.{optional}"
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        if optional == "portal":
            module.register(router, state)
        elif hasattr(module, "compose"):
            state.mail_composer = module.compose
    return router


class _RequestHandler(BaseHTTPRequestHandler):
    """One thread per connection; HTTP/1.1 keep-alive so clients can reuse connections."""

    protocol_version = "HTTP/1.1"
    timeout = 30
    """Seconds a connection may stay silent (idle keep-alive, or a body that never comes)."""
    server_version = "tokenrig-jumpcloud-emulator/1"
    # Headers and body leave in two writes; with Nagle on, keep-alive clients wait ~40 ms for
    # the delayed ACK on every response.
    disable_nagle_algorithm = True
    server: _EmulatorHTTPServer

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_TRACE = do_GET

    # Errors the stdlib detects itself (bad request line, oversized headers) answer in JSON too.
    error_message_format = '{"message": "%(message)s", "code": %(code)d}'
    error_content_type = "application/json; charset=utf-8"

    def log_message(self, format: str, *args: Any) -> None:
        # Request lines only (never headers: they carry the API key), and without their query
        # strings: ``/activate?token=...`` carries a credential.
        clean = [_QUERY.sub("?...", arg) if isinstance(arg, str) else arg for arg in args]
        log.debug("%s " + format, self.address_string(), *clean)

    def _handle(self) -> None:
        try:
            response = self._respond()
        except _ResetConnection:
            self._reset()
            return
        self._send(response)

    def _respond(self) -> Response:
        emulator = self.server.emulator
        split = urlsplit(self.path)
        path = split.path
        length_text = self.headers.get("Content-Length", "0") or "0"
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self.close_connection = True
            return error_response(411, "Length Required")
        try:
            length = int(length_text)
        except ValueError:
            self.close_connection = True
            return error_response(400, "Bad Request: invalid Content-Length")
        if length < 0:
            self.close_connection = True
            return error_response(400, "Bad Request: invalid Content-Length")
        if length > emulator.max_body_bytes:
            self.close_connection = True  # the unread body must not be parsed as a request
            return error_response(
                413, f"Request Entity Too Large: limit {emulator.max_body_bytes} bytes"
            )
        body = self.rfile.read(length) if length else b""

        faultable = path.startswith(("/api/", "/userconsole/"))
        fault = emulator.faults.take(path) if faultable else None
        if fault is not None:
            if fault.latency > 0:
                time.sleep(fault.latency)
            if fault.reset:
                raise _ResetConnection
            if fault.status and not fault.after:
                return _fault_response(fault)
        response = self._route(path, split.query, body, faultable)
        if fault is not None and fault.after:
            return _fault_response(fault)
        return response

    def _route(self, path: str, query: str, body: bytes, faultable: bool) -> Response:
        emulator = self.server.emulator

        found = emulator.router.match(self.command, path)
        if found is None:
            return error_response(404, "Not Found")
        if isinstance(found, frozenset):
            allow = [("Allow", ", ".join(sorted(found)))]
            if self.command == "OPTIONS":  # RFC 9110 9.3.7; no CORS headers: none granted
                return Response(status=204, content_type="text/plain; charset=utf-8", headers=allow)
            return error_response(405, "Method Not Allowed", allow)
        route, params = found
        if path.startswith(CONTROL_PREFIX):
            refusal = control_refusal(self.command, self.headers)
            if refusal is not None:
                return error_response(403, refusal)
        request = Request(
            method=self.command,
            path=path,
            query=parse_qs(query, keep_blank_values=True),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
            params=params,
        )
        try:
            if route.auth:
                request.org = emulator.authenticate(request)
            if faultable:
                wait = emulator.faults.rate_limit_wait(
                    request.org.id if request.org else "", emulator.state.now()
                )
                if wait is not None:
                    return error_response(429, "Too Many Requests", [("Retry-After", str(wait))])
            return route.handler(request)
        except EmulatorError as exc:
            return error_response(exc.status, exc.message)
        except Exception:
            log.exception("emulator handler failed on %s %s", self.command, path)
            return error_response(500, "Internal Server Error")

    def _send(self, response: Response) -> None:
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers:
                self.send_header(name, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _reset(self) -> None:
        """Abort the TCP connection with RST, like a crashed load balancer."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()


def control_refusal(method: str, headers: Any) -> str | None:
    """Why a ``/__emulator__/`` request is refused, or None (emulator choice, no JumpCloud
    equivalent): the Host must name loopback (a DNS-rebinding page names its own host), an
    ``Origin`` must be loopback too, and a state-changing call must be JSON with
    :data:`CONTROL_HEADER` (neither can be sent cross-origin without a preflight)."""
    host = headers.get("Host", "") or ""
    if not _LOOPBACK_HOST.fullmatch(host.strip()):
        return "Forbidden: emulator controls answer only to Host 127.0.0.1 or localhost"
    origin = headers.get("Origin")
    if origin is not None:
        origin_host = urlsplit(origin).netloc
        if not _LOOPBACK_HOST.fullmatch(origin_host) or origin_host.lower() != host.lower():
            return "Forbidden: emulator controls refuse cross-origin requests"
    if method in ("GET", "HEAD"):
        return None
    content_type = (headers.get("Content-Type", "") or "").split(";")[0].strip().lower()
    if content_type != "application/json":
        return "Forbidden: emulator controls need Content-Type: application/json"
    if not (headers.get(CONTROL_HEADER, "") or "").strip():
        return f"Forbidden: emulator controls need the {CONTROL_HEADER} header"
    return None


def _fault_response(fault: Fault) -> Response:
    headers = [("Retry-After", str(fault.retry_after))] if fault.status == 429 else []
    message = "Too Many Requests" if fault.status == 429 else HTTPStatus(fault.status).phrase
    return error_response(fault.status, message, headers)


class _ResetConnection(Exception):
    pass


class _EmulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    emulator: Emulator

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up is not worth a traceback on stderr.
        log.debug("connection from %s ended with an error", client_address, exc_info=True)


class Emulator:
    """The JumpCloud emulator running in-process: ``with Emulator(api_key=k) as emu: emu.url``.

    One organization is created for ``api_key``; add more with ``emu.state.add_org``. The
    ``clock`` (default: the host clock) drives grace periods, activation-link expiry, TOTP and
    the rate limiter; pass the same :class:`~tokenrig.harness.clock.VirtualClock` the simulator
    uses.
    """

    def __init__(
        self,
        api_key: str = "emulator-api-key",
        *,
        clock: Clock | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        org_name: str = "Emulated Org",
        max_body_bytes: int = MAX_BODY_BYTES,
        look: PortalLook | None = None,
    ) -> None:
        self.state = EmulatorState(clock)
        if look is not None:  # the pages' wording and ids (portal_looks.py)
            look.validate()
            self.state.portal.look = look
        self.org = self.state.add_org(api_key, org_name)
        self.faults = FaultPlan()
        self.max_body_bytes = max_body_bytes
        self.router = build_router(self.state, self.faults)
        self._host = host
        self._port = port
        self._server: _EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator is not running; call start() first")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Emulator:
        if self._server is not None:
            return self
        server = _EmulatorHTTPServer((self._host, self._port), _RequestHandler)
        server.emulator = self
        self._server = server
        self.state.public_url = self.url
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="jumpcloud-emulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def serve_forever(self) -> None:
        """Start and block until KeyboardInterrupt (``tokenrig jumpcloud serve``)."""
        self.start()
        assert self._thread is not None
        try:
            while self._thread.is_alive():
                self._thread.join(timeout=0.5)
        finally:
            self.stop()

    def authenticate(self, request: Request) -> Organization:
        """Resolve the org from ``x-api-key`` / ``x-org-id`` or raise the real service's error."""
        key = request.headers.get("x-api-key", "")
        with self.state.lock:
            org = self.state.org_for_key(key) if key else None
        if org is None:
            raise EmulatorError("Unauthorized", 401)
        org_id = request.headers.get("x-org-id")
        if org_id is not None and org_id != "":
            if not OBJECT_ID.fullmatch(org_id):
                raise EmulatorError("Malformed ID", 400)
            if org_id != org.id:
                raise EmulatorError("Organization ID Not Found", 404)
        return org

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.url if self._server is not None else "stopped"
        return f"Emulator({where}, orgs={len(self.state.orgs)})"
