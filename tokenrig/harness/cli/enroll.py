"""``tokenrig enroll``: walk the self-service enrollment for one token, step by step.

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
import logging
import os
import secrets
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tokenrig.harness import interrupts
from tokenrig.harness.cli.main import EXIT_FAIL, EXIT_OK, UsageError
from tokenrig.harness.clock import SYSTEM_CLOCK
from tokenrig.harness.enroll import procedure as p
from tokenrig.harness.enroll.portal import UserPortal
from tokenrig.harness.enroll.steps import StepFailed, StepRecord, StepRunner, StepStatus
from tokenrig.harness.jumpcloud import JumpCloudClient, JumpCloudConfig
from tokenrig.harness.jumpcloud.emulator import Emulator
from tokenrig.harness.jumpcloud.portal_client import LoginOutcome, PortalClient
from tokenrig.harness.jumpcloud.portal_driver import ChromiumSession, PortalDriver
from tokenrig.harness.secrets import SecretText
from tokenrig.harness.sim.factory import make_sim_token
from tokenrig.harness.tokens.base import Token, TokenError
from tokenrig.harness.tokens.models import MODELS

DEFAULT_PASSWORD_ENV = "JUMPCLOUD_PORTAL_PASSWORD"  # noqa: S105 - a variable name


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "enroll", help="enroll one token as a user's TOTP factor (self-service path)"
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
        yield make_sim_token(args.model, clock=SYSTEM_CLOCK)
        return
    from tokenrig.harness.rigs.rig import open_rig

    try:
        rig = open_rig(args.rig, lock_wait=args.wait)
    except (OSError, ValueError, RuntimeError, TokenError) as exc:
        raise UsageError(f"--rig {args.rig}: {exc}") from None
    with rig:
        try:
            token = rig.token(args.slot)
        except TokenError as exc:  # no such slot, an empty slot, a model tokenrig cannot drive
            raise UsageError(f"--slot {args.slot}: {exc}") from None
        yield token


@contextlib.contextmanager
def _portal(args: argparse.Namespace, url: str) -> Iterator[UserPortal]:
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
    runner = StepRunner((_PrintSteps(),))
    # interrupts: a rig is released (a labgrid place given back) on SIGTERM too.
    with _step_log_not_on_console(), interrupts.installed():
        return _run(args, runner)


def _run(args: argparse.Namespace, runner: StepRunner) -> int:
    password = _password(args) if args.url else None  # before a rig or browser is started
    try:
        with contextlib.ExitStack() as stack:
            token = stack.enter_context(_token(args))
            if password is not None:  # --url: a user of that portal
                portal = stack.enter_context(_portal(args, args.url))
                runner.run(
                    "log in to the User Portal",
                    p.log_in,
                    portal,
                    args.email,
                    password,
                    LoginOutcome.SIGNED_IN,
                )
                p.enroll_token(runner, portal, token, SYSTEM_CLOCK, forced=False)
                runner.run("Security: the authenticator app is active", p.check_totp_active, portal)
                who = args.email
            else:
                key = secrets.token_hex(20)
                emulator = stack.enter_context(Emulator(api_key=key))
                print(f"local JumpCloud emulator at {emulator.url}", flush=True)
                admin = stack.enter_context(
                    JumpCloudClient(JumpCloudConfig(emulator.url, SecretText(key, "API key")))
                )
                portal = stack.enter_context(_portal(args, emulator.url))
                username = f"tokenrig-cli-{secrets.token_hex(3)}"
                who = f"{username}@example.test"
                p.self_service_path(
                    runner,
                    admin=admin,
                    portal=portal,
                    token=token,
                    clock=SYSTEM_CLOCK,
                    username=username,
                    email=who,
                    password=SecretText(f"Tr-{secrets.token_urlsafe(12)}-9a", "password"),
                )
    except StepFailed as exc:
        print(f"tokenrig enroll: {exc}", file=sys.stderr)
        return EXIT_FAIL
    ident = token.identity
    print(f"enrolled {who}: token {ident.model} {ident.serial} ({len(runner.records)} steps)")
    return EXIT_OK
