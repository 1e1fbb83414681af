"""``tokenrig enroll``: walk one enrollment path for one token (or a batch), step by step.

Without ``--url`` it starts a local JumpCloud emulator, creates a demo user and enrolls a
token there (a quick end-to-end check of a rig, a token or the harness itself). With
``--url`` it logs in to that portal as ``--email`` (password from the environment variable
named by ``--password-env``, never from the command line) and enrolls the token for that user.

The token is a simulated one (``--model``, default C302) or the one in ``--slot`` of
``--rig FILE|URL``. ``--browser`` drives the portal in headless Chromium and keeps masked
screenshots in ``--screenshots DIR``. Each passed step prints one line on stdout; a failure
is printed once, on stderr, naming the step, and exits 1. Bad input (a malformed URL, an
unusable screenshot directory, a slot the rig does not have) exits 2 before anything runs.
The portal's enrollment calls are the emulator's (see docs/enrollment.md).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tokenrig.harness import interrupts
from tokenrig.harness.cli.main import EXIT_FAIL, EXIT_OK, UsageError
from tokenrig.harness.clock import SYSTEM_CLOCK, Clock, VirtualClock
from tokenrig.harness.enroll import procedure as p
from tokenrig.harness.enroll.forced import forced_path
from tokenrig.harness.enroll.mailbox import EmulatorOutbox
from tokenrig.harness.enroll.portal import UserPortal, new_password
from tokenrig.harness.enroll.steps import StepFailed, StepRecord, StepRunner, StepStatus
from tokenrig.harness.jumpcloud import JumpCloudClient, JumpCloudConfig
from tokenrig.harness.jumpcloud.emulator import Emulator
from tokenrig.harness.jumpcloud.portal_client import LoginOutcome, PortalClient
from tokenrig.harness.jumpcloud.portal_driver import ChromiumSession, PortalDriver
from tokenrig.harness.secrets import SecretText
from tokenrig.harness.sim.factory import make_sim_token
from tokenrig.harness.tokens.base import Token
from tokenrig.harness.tokens.models import MODELS

DEFAULT_PASSWORD_ENV = "JUMPCLOUD_PORTAL_PASSWORD"  # noqa: S105 - a variable name
PATHS = ("self-service", "forced", "admin")
MAX_JOBS = 32


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "enroll", help="enroll tokens as users' TOTP factors (admin, forced or self-service path)"
    )
    parser.add_argument("--url", help="portal base URL (default: start a local emulator)")
    parser.add_argument("--email", help="the user's email (with --url)")
    parser.add_argument(
        "--password-env",
        default=DEFAULT_PASSWORD_ENV,
        metavar="VAR",
        help=f"environment variable holding the user's password (default {DEFAULT_PASSWORD_ENV})",
    )
    parser.add_argument(
        "--model", default="C302", help=f"simulated token model ({', '.join(MODELS)})"
    )
    parser.add_argument("--rig", metavar="FILE|URL", help="use the token in a rig instead")
    parser.add_argument("--slot", type=int, default=1, help="rig slot (default 1)")
    parser.add_argument(
        "--wait", type=float, default=0.0, metavar="SECONDS",
        help="a rig someone else holds (labgrid place, locked rig): wait up to SECONDS for it",
    )  # fmt: skip
    parser.add_argument("--browser", action="store_true", help="drive the portal in Chromium")
    parser.add_argument("--screenshots", type=Path, metavar="DIR", help="keep screenshots here")
    parser.add_argument(
        "--path",
        choices=PATHS,
        default="self-service",
        help="admin: create, activate by mail, require MFA, forced setup; forced: a user "
        "already required; self-service (default): Security → set up",
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON result instead of step lines"
    )
    parser.add_argument(
        "--users",
        type=Path,
        metavar="FILE",
        help="batch: CSV with a 'username' column (and 'slot' with --rig); needs --out",
    )
    parser.add_argument("--out", type=Path, metavar="DIR", help="batch results (CSV and JSON)")
    parser.add_argument(
        "--jobs",
        type=int,
        default=8,
        metavar="N",
        help="batch: users enrolled at once (default 8; each waits for a fresh time step)",
    )
    parser.set_defaults(func=run_enroll)


class _PrintSteps:
    """Prints each finished step as one line (the runner's own log format).

    A failed step is left out here: :func:`run_enroll` prints it once, on stderr.
    """

    def step_started(self, record: StepRecord) -> None:
        pass

    def step_finished(self, record: StepRecord) -> None:
        if record.status is not StepStatus.FAILED:
            print(record.line(), flush=True)

    def attach_png(self, name: str, png: bytes) -> None:
        pass

    def attach_text(self, name: str, text: str) -> None:
        pass


def _check_args(args: argparse.Namespace) -> None:
    if args.url and not args.email:
        raise UsageError("--url needs --email (the user to enroll)")
    if args.email and not args.url:
        raise UsageError("--email needs --url (without --url a demo user is created)")
    if args.model.lower() not in {name.lower() for name in MODELS}:
        raise UsageError(f"--model {args.model!r}: unknown model; known: {', '.join(MODELS)}")
    if args.slot < 1:
        raise UsageError(f"--slot {args.slot}: slots count from 1")
    if args.screenshots and not args.browser:
        raise UsageError("--screenshots needs --browser")
    if args.url and args.path == "admin":
        raise UsageError(
            "--path admin creates the user in the console, which --url (a user's portal) "
            "cannot; run it against the local emulator (no --url) or use --path forced"
        )
    if args.users and args.url:
        raise UsageError("--users creates its users: it runs against the local emulator only")
    if not 1 <= args.jobs <= MAX_JOBS:
        raise UsageError(f"--jobs {args.jobs}: expected 1..{MAX_JOBS}")
    if bool(args.users) != bool(args.out):
        raise UsageError("--users and --out go together (the batch's results go to --out)")
    if args.url:
        _check_url(args.url)
    if args.screenshots:
        _check_screenshot_dir(args.screenshots)


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--url {url}: not a portal address; give http(s)://host[:port]")


def _check_screenshot_dir(directory: Path) -> None:
    """Create ``directory`` and write a scratch file in it, so a typo or a read-only place
    is reported now, not after the enrollment has run."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UsageError(
            f"--screenshots {directory}: cannot write screenshots there: {reason}"
        ) from None


@contextlib.contextmanager
def _token(args: argparse.Namespace) -> Iterator[Token]:
    if not args.rig:
        yield make_sim_token(args.model, clock=args.clock)
        return
    from tokenrig.harness.cli.rig_access import open_cli_rig, slot_token

    with open_cli_rig(args.rig, wait=args.wait) as rig:
        yield slot_token(rig, args.slot)


@contextlib.contextmanager
def open_portal(args: argparse.Namespace, url: str) -> Iterator[UserPortal]:
    if not args.browser:
        with PortalClient(url) as client:
            yield client
        return
    with ChromiumSession() as chromium:
        yield PortalDriver(chromium.page(), url, screenshot_dir=args.screenshots)


def _password(args: argparse.Namespace) -> SecretText:
    value = os.environ.get(args.password_env, "")
    if not value:
        raise UsageError(f"--url: set the user's password in ${args.password_env}")
    return SecretText(value, "portal password")


@contextlib.contextmanager
def _step_log_not_on_console() -> Iterator[None]:
    """Keep the runner's log records off the console while :class:`_PrintSteps` prints.

    With no logging set up, Python prints warnings and errors through its last-resort
    handler on stderr, so a failed step would appear there a second time. A NullHandler
    on the step logger stops that; handlers set up by the caller still get the records.
    """
    logger = logging.getLogger("tokenrig.enroll")
    quiet = logging.NullHandler()
    logger.addHandler(quiet)
    try:
        yield
    finally:
        logger.removeHandler(quiet)


def run_enroll(args: argparse.Namespace) -> int:
    _check_args(args)
    # Simulated tokens and the local emulator share a virtual clock, as qualify's simulated
    # rigs do: the wait for a fresh time step before the final login then costs nothing. A
    # token in a rig, or a real portal, keeps real time.
    args.clock = SYSTEM_CLOCK if (args.rig or args.url) else VirtualClock(time.time())
    # interrupts: a rig is released (a labgrid place given back) on SIGTERM too.
    if args.users:
        from tokenrig.harness.cli.enroll_batch import run_batch

        with _step_log_not_on_console(), interrupts.installed():
            status: int = run_batch(args)
            return status
    runner = StepRunner(() if args.json else (_PrintSteps(),))
    with _step_log_not_on_console(), interrupts.installed():
        return _run(args, runner)


def _run(args: argparse.Namespace, runner: StepRunner) -> int:
    password = _password(args) if args.url else None  # before a rig or browser is started
    who = args.email or ""
    try:
        with contextlib.ExitStack() as stack:
            token = stack.enter_context(_token(args))
            if password is not None:  # --url: a user of that portal, no console access
                portal = stack.enter_context(open_portal(args, args.url))
                enroll_portal_user(runner, args.path, portal, token, args.email, password)
            else:
                site = stack.enter_context(local_site(args.clock))
                if not args.json:
                    print(f"local JumpCloud emulator at {site.url}", flush=True)
                portal = stack.enter_context(open_portal(args, site.url))
                who = enroll_new_user(runner, args.path, site, portal, token).enrollee.email
    except StepFailed as exc:
        if args.json:
            print(json.dumps(result_json(args.path, who, None, runner, str(exc))))
        else:
            print(f"tokenrig enroll: {exc}", file=sys.stderr)
        return EXIT_FAIL
    if args.json:
        print(json.dumps(result_json(args.path, who, token, runner, None)))
        return EXIT_OK
    ident = token.identity
    print(f"enrolled {who}: token {ident.model} {ident.serial} ({len(runner.records)} steps)")
    return EXIT_OK


@dataclass
class LocalSite:
    """A local emulator with its admin client and outbox: where a user can be created."""

    url: str
    admin: JumpCloudClient
    mailbox: EmulatorOutbox
    config: JumpCloudConfig
    clock: Clock

    @contextlib.contextmanager
    def for_thread(self) -> Iterator[LocalSite]:
        """The same site with an admin client of its own (a client is one thread's)."""
        with JumpCloudClient(self.config) as admin:
            yield LocalSite(self.url, admin, self.mailbox, self.config, self.clock)


@contextlib.contextmanager
def local_site(clock: Clock) -> Iterator[LocalSite]:
    """A fresh local emulator on ``clock`` (virtual with simulated tokens: see run_enroll)."""
    key = secrets.token_hex(20)
    with Emulator(api_key=key, clock=clock) as emulator:
        config = JumpCloudConfig(emulator.url, SecretText(key, "API key"))
        with JumpCloudClient(config) as admin:
            yield LocalSite(emulator.url, admin, EmulatorOutbox(emulator.url), config, clock)


def enroll_new_user(
    runner: StepRunner,
    path: str,
    site: LocalSite,
    portal: UserPortal,
    token: Token,
    username: str | None = None,
) -> p.Enrollment:
    """Create a user on ``site`` and enroll ``token`` for it along ``path``; every path ends
    with a login by the token's next code, and that code refused a second time."""
    username = username or f"tokenrig-cli-{secrets.token_hex(3)}"
    common: dict[str, Any] = {
        "admin": site.admin,
        "portal": portal,
        "token": token,
        "clock": site.clock,
        "username": username,
        "email": f"{username}@example.test",
        "password": new_password(),
    }
    if path == "admin":
        return p.admin_path(runner, mailbox=site.mailbox, **common)
    if path == "forced":
        return forced_path(runner, **common)
    enrollment = p.self_service_path(runner, **common)
    p.login_with_token(runner, portal, enrollment.enrollee, token, site.clock)
    return enrollment


def enroll_portal_user(
    runner: StepRunner,
    path: str,
    portal: UserPortal,
    token: Token,
    email: str,
    password: SecretText,
) -> None:
    """``--url``: the user's side only (self-service, or forced when the admin requires MFA)."""
    forced = path == "forced"
    expected = LoginOutcome.SETUP_REQUIRED if forced else LoginOutcome.SIGNED_IN
    title = "log in: MFA setup is forced" if forced else "log in to the User Portal"
    runner.run(title, p.log_in, portal, email, password, expected)
    enrollee = p.Enrollee("", email, email, password)
    if forced:
        p.enroll_at_forced_login(runner, None, portal, token, SYSTEM_CLOCK, enrollee)
        return
    key, _, _ = p.enroll_token(runner, portal, token, SYSTEM_CLOCK, forced=False)
    runner.run("Security: the authenticator app is active", p.check_totp_active, portal)
    p.login_with_token(runner, portal, enrollee, token, SYSTEM_CLOCK, period=key.period)


def result_json(
    path: str, who: str, token: Token | None, runner: StepRunner, error: str | None
) -> dict[str, Any]:
    """The machine-readable result of one enrollment (no secret: fingerprints only)."""
    failed = next((r for r in runner.records if r.status is StepStatus.FAILED), None)
    return {
        "path": path,
        "user": who,
        "result": "failed" if error else "enrolled",
        "token": None
        if token is None
        else {"model": token.identity.model, "serial": token.identity.serial},
        "failed_step": None
        if failed is None
        else {"number": failed.number, "name": failed.name, "error": failed.error or error},
        "steps": [
            {
                "number": r.number,
                "name": r.name,
                "status": r.status.value if r.status else "running",
                "seconds": round(r.seconds, 3),
                "details": list(r.details),
            }
            for r in runner.records
        ],
    }
