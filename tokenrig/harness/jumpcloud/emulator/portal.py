"""HTTP side of the emulated User Portal: HTML pages for a browser and JSON calls for an
API-level client, both over the rules in ``portal_flows.py``.

Routes (``register`` adds them to the emulator's router; cookies, not API keys):

* pages — ``/login`` (email → Continue → password), ``/activate?token=``, ``/userconsole/``
  (home), ``/userconsole/security``, and the MFA steps as a dialog over the portal:
  ``/userconsole/mfa/setup`` ("Verify Your Identity"; older wording "Set Up Multi-Factor
  Authentication"), ``/userconsole/mfa/totp`` ("I Have the App"), ``…/totp/qr``,
  ``…/totp/verify`` ("Verify Your Account"), ``…/totp/success``; forms POST back with the
  session's XSRF token in ``_xsrf``; wording and ids follow ``state.portal.look``;
* JSON seen in real clients — ``GET /userconsole/xsrf``, ``POST /userconsole/auth``,
  ``POST /userconsole/auth/totp``, ``GET /userconsole/api/self``;
* JSON the emulator invents for enrollment (JumpCloud's are not public) — ``GET
  /userconsole/api/mfa``, ``POST /userconsole/api/mfa/later``, ``POST
  /userconsole/api/mfa/totp/setup``, ``GET /userconsole/api/mfa/totp/qr.png``, ``POST
  /userconsole/api/mfa/totp/verify``, ``POST /userconsole/logout``;
* emulator-only — ``GET/PUT /__emulator__/portal`` reads or changes the portal policy,
  ``GET/PUT /__emulator__/portal/look`` the pages' wording and ids (``portal_looks.py``).

JSON POSTs carry the token in ``X-Xsrftoken``. See ``docs/jumpcloud-portal.md``.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from tokenrig.harness.jumpcloud.emulator import portal_activation as activation
from tokenrig.harness.jumpcloud.emulator import portal_flows as flows
from tokenrig.harness.jumpcloud.emulator.models import EmulatorError, EmulatorState, SystemUser
from tokenrig.harness.jumpcloud.emulator.portal_looks import PortalLook
from tokenrig.harness.jumpcloud.emulator.portal_pages import Markup, fragment, message_page, page
from tokenrig.harness.jumpcloud.emulator.portal_state import SESSION_COOKIE, PortalSession
from tokenrig.harness.jumpcloud.emulator.portal_totp import base32_key, otpauth_uri, qr_png, qr_size
from tokenrig.harness.jumpcloud.emulator.server import (
    Request,
    Response,
    Router,
    error_response,
    html_response,
    json_response,
    redirect,
)

LOGIN = "/login"
NO_STORE = ("Cache-Control", "no-store")
QR_PNG = "/userconsole/api/mfa/totp/qr.png"


def _cookie_header(session: PortalSession) -> tuple[str, str]:
    return ("Set-Cookie", f"{SESSION_COOKIE}={session.id}; Path=/; HttpOnly; SameSite=Lax")


def _form(request: Request) -> dict[str, str]:
    """An urlencoded form body (last value wins), or a JSON object's string values."""
    if request.headers.get("content-type", "").startswith("application/json"):
        return {k: v for k, v in request.json_object().items() if isinstance(v, str)}
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EmulatorError("Bad Request: form is not UTF-8") from exc
    return {key: values[-1] for key, values in parse_qs(text, keep_blank_values=True).items()}


def _wants_json(request: Request) -> bool:
    """JSON callers send a JSON body or the ``X-Xsrftoken`` header; forms send neither."""
    return request.headers.get("content-type", "").startswith("application/json") or (
        "x-xsrftoken" in request.headers
    )


def _string_field(body: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise EmulatorError(f"Bad Request: field {name!r} must be a string", 400)
    return value


class Portal:
    """The portal's handlers, bound to one emulator state."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state

    # -- looks ----------------------------------------------------------------------------------
    @property
    def look(self) -> PortalLook:
        with self.state.lock:
            return self.state.portal.look

    def _page(self, template: str, /, *, title: str, **values: str) -> str:
        return page(template, title=title, look=self.look, **values)

    def _message(self, heading: str, text: str) -> str:
        return message_page(heading, text, look=self.look)

    def _fragment(self, template: str, /, **values: str) -> Markup:
        return fragment(template, look=self.look, **values)

    # -- sessions -------------------------------------------------------------------------------
    def _session(self, request: Request) -> PortalSession | None:
        with self.state.lock:
            return self.state.portal.get(request.cookies.get(SESSION_COOKIE))

    def _check_xsrf(
        self, request: Request, session: PortalSession | None, form_token: str | None
    ) -> PortalSession:
        token = request.headers.get("x-xsrftoken") or form_token or ""
        if session is None or not hmac.compare_digest(token.encode(), session.xsrf.encode()):
            raise EmulatorError("Forbidden: missing or invalid XSRF token", 403)
        return session

    def _json_user(self, request: Request, *, post: bool) -> tuple[PortalSession, SystemUser]:
        """Signed-in session and user for a JSON call, or the 401/403 the call answers."""
        session = self._session(request)
        if post:
            self._check_xsrf(request, session, None)
        user = flows.signed_in_user(self.state, session)
        if session is None or user is None:
            raise EmulatorError("Unauthorized", 401)
        if flows.mfa_gate(self.state, user).gate is flows.Gate.EXPIRED:
            raise EmulatorError(flows.MSG_ENROLLMENT_EXPIRED, 403)
        return session, user

    def _page_user(self, request: Request) -> tuple[PortalSession, SystemUser] | Response:
        """Signed-in session and user for a page, or the redirect/lock page to answer with."""
        session = self._session(request)
        user = flows.signed_in_user(self.state, session)
        if session is None or user is None:
            return redirect(LOGIN)
        if flows.mfa_gate(self.state, user).gate is flows.Gate.EXPIRED:
            return html_response(self._message("Account Locked", flows.MSG_ENROLLMENT_EXPIRED), 403)
        return session, user

    def _needs_setup(self, session: PortalSession, user: SystemUser) -> bool:
        """Forced enrollment: inside the grace period and "Set Up Later" not chosen yet."""
        gate = flows.mfa_gate(self.state, user)
        return gate.gate is flows.Gate.GRACE and not session.mfa_deferred

    # -- JSON: login ----------------------------------------------------------------------------
    def xsrf(self, request: Request) -> Response:
        with self.state.lock:
            session = self._session(request) or self.state.portal.new_session(self.state.now())
        return json_response({"xsrf": session.xsrf}, headers=[_cookie_header(session), NO_STORE])

    def auth(self, request: Request) -> Response:
        session = self._check_xsrf(request, self._session(request), None)
        body = request.json_object()
        email = _string_field(body, "email") or ""
        password = _string_field(body, "password") or ""
        otp = _string_field(body, "otp", required=False)
        org_id = _string_field(body, "orgId", required=False) or None
        result = flows.login(self.state, session, email, password, otp, org_id)
        return self._login_answer(result)

    def auth_totp(self, request: Request) -> Response:
        session = self._check_xsrf(request, self._session(request), None)
        otp = _string_field(request.json_object(), "otp") or ""
        return self._login_answer(flows.login_totp(self.state, session, otp), second_step=True)

    @staticmethod
    def _login_answer(result: flows.LoginResult, *, second_step: bool = False) -> Response:
        """The JSON answer of a login step, with the rotated session's cookie when the login
        advanced and ``Retry-After`` when it is throttled."""
        status, data = result.to_json()
        if second_step and status == 401 and "factors" in data:  # a wrong second code
            data = {"message": flows.MSG_AUTH_FAILED}
        headers = [NO_STORE]
        if result.session is not None:
            headers.append(_cookie_header(result.session))
        if result.outcome is flows.Outcome.THROTTLED:
            headers.append(("Retry-After", str(result.retry_after)))
        return json_response(data, status, headers)

    def logout(self, request: Request) -> Response:
        session = self._session(request)
        form = {} if request.headers.get("x-xsrftoken") else _form(request)
        self._check_xsrf(request, session, form.get("_xsrf"))
        assert session is not None
        with self.state.lock:
            session.sign_out()
        if _wants_json(request):
            return json_response({"redirectTo": LOGIN})
        return redirect(LOGIN)

    # -- JSON: self and MFA -----------------------------------------------------------------------
    def _mfa_json(self, session: PortalSession, user: SystemUser) -> dict[str, Any]:
        with self.state.lock:
            gate = flows.mfa_gate(self.state, user)
            return {
                "required": user.enable_user_portal_multifactor,
                "totpEnabled": user.totp_enabled,
                "totpStatus": str(self.state.totp_status(user)),
                "setupPending": user.pending_totp_secret is not None,
                "deferred": session.mfa_deferred,
                **gate.to_json(),
            }

    def api_self(self, request: Request) -> Response:
        session, user = self._json_user(request, post=False)
        with self.state.lock:
            data = {
                "_id": user.id,
                "email": user.email,
                "username": user.username,
                "firstname": user.firstname,
                "lastname": user.lastname,
                "activated": user.activated,
                "mfa": self._mfa_json(session, user),
            }
        return json_response(data, headers=[NO_STORE])

    def api_mfa(self, request: Request) -> Response:
        session, user = self._json_user(request, post=False)
        return json_response(self._mfa_json(session, user), headers=[NO_STORE])

    def api_later(self, request: Request) -> Response:
        session, user = self._json_user(request, post=True)
        gate = flows.defer_setup(self.state, session, user)
        return json_response({"redirectTo": flows.HOME, "daysRemaining": gate.days_remaining})

    def api_setup(self, request: Request) -> Response:
        _, user = self._json_user(request, post=True)
        secret = flows.start_totp(self.state, user)
        uri = otpauth_uri(user.email, secret)
        data = {"otpauthUri": uri, "key": base32_key(secret), "qrCode": QR_PNG}
        return json_response(data, headers=[NO_STORE])

    def api_qr(self, request: Request) -> Response:
        _, user = self._json_user(request, post=False)
        with self.state.lock:
            secret = user.pending_totp_secret
            if secret is None:
                raise EmulatorError("No authenticator app setup is in progress.", 404)
            uri = otpauth_uri(user.email, secret)
        return Response(body=qr_png(uri), content_type="image/png", headers=[NO_STORE])

    def api_verify(self, request: Request) -> Response:
        _, user = self._json_user(request, post=True)
        otp = _string_field(request.json_object(), "otp") or ""
        result = flows.verify_totp(self.state, user, otp)
        if result.outcome is flows.VerifyOutcome.ENROLLED:
            return json_response({"message": flows.MSG_ENROLLED, "totpStatus": "ENROLLED"})
        if result.outcome is flows.VerifyOutcome.LOCKED:
            return error_response(403, flows.MSG_LOCKED)
        data = {"message": flows.MSG_WRONG_CODE, "attemptsRemaining": result.attempts_remaining}
        return json_response(data, 401)

    # -- pages ----------------------------------------------------------------------------------
    def login_page(self, request: Request) -> Response:
        if flows.signed_in_user(self.state, self._session(request)) is not None:
            return redirect(flows.HOME)
        return html_response(self._page("login.html", title="Login"))

    def activate_page(self, request: Request) -> Response:
        token = request.query_one("token") or ""
        try:
            user = activation.activation_user(self.state, token)
        except EmulatorError as exc:
            return html_response(self._message("Activation Failed", exc.message), exc.status)
        return html_response(self._activate_form(user, token, ""))

    def _activate_form(self, user: SystemUser, token: str, error: str) -> str:
        first = not user.activated
        return self._page(
            "activate.html",
            title="Activate Account" if first else "Reset Password",
            heading="Activate Your Account" if first else "Reset Your Password",
            button="Activate Account" if first else "Set Password",
            email=user.email,
            token=token,
            error=error,
        )

    def activate_submit(self, request: Request) -> Response:
        form = _form(request)
        token = form.get("token", "")
        try:
            user = activation.activate(
                self.state, token, form.get("password", ""), form.get("confirm", "")
            )
        except EmulatorError as exc:
            if _wants_json(request):
                return error_response(exc.status, exc.message)
            if exc.status == 400:  # a password problem: show the form again with the reason
                user = activation.activation_user(self.state, token)
                return html_response(self._activate_form(user, token, exc.message), 400)
            return html_response(self._message("Activation Failed", exc.message), exc.status)
        if _wants_json(request):
            return json_response({"activated": True, "redirectTo": LOGIN})
        return html_response(
            self._page("activated.html", title="Account Activated", email=user.email)
        )

    def home_page(self, request: Request) -> Response:
        found = self._page_user(request)
        if isinstance(found, Response):
            return found
        session, user = found
        if self._needs_setup(session, user):
            return redirect(flows.MFA_SETUP)
        gate = flows.mfa_gate(self.state, user)
        notice = Markup("")
        if gate.gate is flows.Gate.GRACE:
            notice = self._fragment("days_left.html", days=_days(gate.days_remaining))
        return html_response(
            self._page(
                "home.html",
                title="Home",
                xsrf=session.xsrf,
                name=user.firstname or user.username,
                email=user.email,
                notice=notice,
            )
        )

    def security_page(self, request: Request) -> Response:
        found = self._page_user(request)
        if isinstance(found, Response):
            return found
        session, user = found
        if self._needs_setup(session, user):
            return redirect(flows.MFA_SETUP)
        if user.totp_enabled:
            totp = self._fragment("security_active.html")
        else:
            totp = self._fragment("security_setup.html")
        title = self.look.words()["security_title"]
        return html_response(self._page("security.html", title=title, xsrf=session.xsrf, totp=totp))

    def setup_page(self, request: Request) -> Response:
        found = self._page_user(request)
        if isinstance(found, Response):
            return found
        session, user = found
        gate = flows.mfa_gate(self.state, user)
        if gate.gate is not flows.Gate.GRACE:
            return redirect(flows.HOME)
        words = self.look.words()
        # The current wording asks first ("Verify Your Identity" → Continue), then offers the
        # methods; the older one offers the method at once.
        methods = (
            request.query_one("step") == "methods" or words["prompt_next"] == (words["method_app"])
        )
        return html_response(
            self._page(
                "mfa_setup.html",
                title=words["methods_title" if methods else "prompt_title"],
                xsrf=session.xsrf,
                dialog="mfa-setup-title",
                next="/userconsole/mfa/totp" if methods else f"{flows.MFA_SETUP}?step=methods",
                choice=words["method_app" if methods else "prompt_next"],
                grace=self._fragment("days_left.html", days=_days(gate.days_remaining)),
                later=self._fragment("mfa_later.html", xsrf=session.xsrf),
            )
        )

    def later_submit(self, request: Request) -> Response:
        found = self._page_user(request)
        if isinstance(found, Response):
            return found
        session, user = found
        self._check_xsrf(request, session, _form(request).get("_xsrf"))
        flows.defer_setup(self.state, session, user)
        return redirect(flows.HOME)

    def get_app_page(self, request: Request) -> Response:
        found = self._page_user(request)
        if isinstance(found, Response):
            return found
        session, user = found
        if user.totp_enabled:
            return redirect("/userconsole/security")
        return html_response(
            self._page(
                "totp_get_app.html",
                title=self.look.words()["get_app_title"],
                xsrf=session.xsrf,
                dialog="get-app-title",
            )
        )

    def start_submit(self, request: Request) -> Response:
        found = self._page_user(request)
        if isinstance(found, Response):
            return found
        session, user = found
        self._check_xsrf(request, session, _form(request).get("_xsrf"))
        flows.start_totp(self.state, user)
        return redirect("/userconsole/mfa/totp/qr")

    def qr_page(self, request: Request) -> Response:
        found = self._page_user(request)
        if isinstance(found, Response):
            return found
        session, user = found
        with self.state.lock:
            secret = user.pending_totp_secret
            if secret is None:
                return redirect("/userconsole/mfa/totp")
            uri = otpauth_uri(user.email, secret)
            key = base32_key(secret)
        return html_response(
            self._page(
                "totp_qr.html",
                title="Scan the QR Code",
                xsrf=session.xsrf,
                dialog="qr-title",
                version=secret.fingerprint,
                size=str(qr_size(uri)),
                key=key,
            ),
            headers=[NO_STORE],
        )

    def verify_page(self, request: Request) -> Response:
        found = self._page_user(request)
        if isinstance(found, Response):
            return found
        session, user = found
        if user.pending_totp_secret is None:
            return redirect("/userconsole/mfa/totp")
        return html_response(self._verify_form(session, ""))

    def _verify_form(self, session: PortalSession, error: str) -> str:
        return self._page(
            "totp_verify.html",
            title="Verify Your Account",
            xsrf=session.xsrf,
            dialog="verify-title",
            error=error,
        )

    def verify_submit(self, request: Request) -> Response:
        found = self._page_user(request)
        if isinstance(found, Response):
            return found
        session, user = found
        form = _form(request)
        self._check_xsrf(request, session, form.get("_xsrf"))
        result = flows.verify_totp(self.state, user, form.get("otp", "").strip())
        if result.outcome is flows.VerifyOutcome.ENROLLED:
            return redirect("/userconsole/mfa/totp/success")
        if result.outcome is flows.VerifyOutcome.LOCKED:
            return html_response(self._message("Account Locked", flows.MSG_LOCKED), 403)
        left = f"{flows.MSG_WRONG_CODE} Attempts remaining: {result.attempts_remaining}."
        return html_response(self._verify_form(session, left), 401)

    def success_page(self, request: Request) -> Response:
        found = self._page_user(request)
        if isinstance(found, Response):
            return found
        session, user = found
        if not user.totp_enabled:
            return redirect("/userconsole/mfa/totp")
        return html_response(
            self._page(
                "totp_success.html",
                title="Enrollment Successful",
                xsrf=session.xsrf,
                dialog="success-title",
            )
        )

    # -- emulator-only ------------------------------------------------------------------------
    def policy(self, request: Request) -> Response:
        with self.state.lock:
            policy = self.state.portal.policy
            if request.method == "PUT":
                changes = request.json_object()
                unknown = sorted(set(changes) - set(policy.to_json()))
                if unknown:
                    raise EmulatorError(f"unknown portal policy field(s): {', '.join(unknown)}")
                for name, value in changes.items():
                    if not isinstance(value, int) or isinstance(value, bool):
                        raise EmulatorError(f"portal policy field {name!r} must be an integer")
                candidate = type(policy)(**{**policy.to_json(), **changes})
                try:
                    candidate.validate()
                except ValueError as exc:
                    raise EmulatorError(str(exc)) from exc
                self.state.portal.policy = candidate
            return json_response(self.state.portal.policy.to_json())

    def look_control(self, request: Request) -> Response:
        """``GET/PUT /__emulator__/portal/look``: the pages' wording and id markup."""
        with self.state.lock:
            if request.method == "PUT":
                changes = request.json_object()
                current = self.state.portal.look.to_json()
                unknown = sorted(set(changes) - set(current))
                if unknown:
                    raise EmulatorError(f"unknown portal look field(s): {', '.join(unknown)}")
                candidate = PortalLook(**{**current, **changes})
                try:
                    candidate.validate()
                except (ValueError, TypeError) as exc:
                    raise EmulatorError(f"portal look: {exc}") from exc
                self.state.portal.look = candidate
            return json_response(self.state.portal.look.to_json())


def _days(days: int) -> str:
    return f"{days} day" if days == 1 else f"{days} days"


def register(router: Router, state: EmulatorState) -> None:
    """Add the portal's pages and JSON calls to the emulator's router."""
    portal = Portal(state)
    routes: list[tuple[str, str, Callable[[Request], Response]]] = [
        ("GET", r"/", lambda _: redirect(LOGIN)),
        ("GET", r"/login", portal.login_page),
        ("GET", r"/userconsole", lambda _: redirect(flows.HOME)),
        ("GET", r"/activate", portal.activate_page),
        ("POST", r"/activate", portal.activate_submit),
        ("GET", r"/userconsole/xsrf", portal.xsrf),
        ("POST", r"/userconsole/auth", portal.auth),
        ("POST", r"/userconsole/auth/totp", portal.auth_totp),
        ("POST", r"/userconsole/logout", portal.logout),
        ("GET", r"/userconsole/api/self", portal.api_self),
        ("GET", r"/userconsole/api/mfa", portal.api_mfa),
        ("POST", r"/userconsole/api/mfa/later", portal.api_later),
        ("POST", r"/userconsole/api/mfa/totp/setup", portal.api_setup),
        ("GET", r"/userconsole/api/mfa/totp/qr\.png", portal.api_qr),
        ("POST", r"/userconsole/api/mfa/totp/verify", portal.api_verify),
        ("GET", r"/userconsole/", portal.home_page),
        ("GET", r"/userconsole/security", portal.security_page),
        ("GET", r"/userconsole/mfa/setup", portal.setup_page),
        ("POST", r"/userconsole/mfa/later", portal.later_submit),
        ("GET", r"/userconsole/mfa/totp", portal.get_app_page),
        ("POST", r"/userconsole/mfa/totp/start", portal.start_submit),
        ("GET", r"/userconsole/mfa/totp/qr", portal.qr_page),
        ("GET", r"/userconsole/mfa/totp/verify", portal.verify_page),
        ("POST", r"/userconsole/mfa/totp/verify", portal.verify_submit),
        ("GET", r"/userconsole/mfa/totp/success", portal.success_page),
        ("GET", r"/__emulator__/portal", portal.policy),
        ("PUT", r"/__emulator__/portal", portal.policy),
        ("GET", r"/__emulator__/portal/look", portal.look_control),
        ("PUT", r"/__emulator__/portal/look", portal.look_control),
    ]
    for method, pattern, handler in routes:
        router.add(method, pattern, handler)
