"""``tokenrig jumpcloud``: run the local JumpCloud emulator, clean test users out of an org.

``serve`` starts the emulator on loopback and prints its URL; ``sweep`` deletes users whose
username starts with a prefix (what crashed test runs leave behind in a real org).

A command that talks to an org first sends one request (:func:`checked_org`, at most 5 s, no
retries): an unreachable org, a refused key or a server that is not the JumpCloud console API
is one line and exit status 2, before anything is listed or deleted. If the org stops
answering midway, the first unanswered call stops the rest (a shared circuit breaker) instead
of every deletion paying the retry budget again.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time

from tokenrig.harness.cli.main import EXIT_FAIL, EXIT_OK, UsageError
from tokenrig.harness.clock import VirtualClock
from tokenrig.harness.jumpcloud import JumpCloudClient, JumpCloudError
from tokenrig.harness.jumpcloud.config import ConfigError, JumpCloudConfig
from tokenrig.harness.jumpcloud.emulator import Emulator
from tokenrig.harness.jumpcloud.live_check import OrgCheckError, check_org
from tokenrig.harness.jumpcloud.retry import CircuitBreaker

DEFAULT_EMULATOR_KEY = "tokenrig-emulator-key"
"""Key of ``serve`` when neither ``--api-key`` nor ``JUMPCLOUD_API_KEY`` is given: a public,
documented value (the emulator guards nothing), so printing its name reveals no secret."""
PREFIX = re.compile(r"[A-Za-z][A-Za-z0-9._-]{2,29}")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("jumpcloud", help="JumpCloud emulator and test-user sweep")
    commands = parser.add_subparsers(dest="jumpcloud_command", metavar="ACTION")
    commands.required = True

    serve = commands.add_parser("serve", help="run the JumpCloud emulator until interrupted")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    serve.add_argument(
        "--api-key",
        default=None,
        metavar="K",
        help=f"key clients must send (default: $JUMPCLOUD_API_KEY, else {DEFAULT_EMULATOR_KEY})",
    )
    serve.add_argument(
        "--virtual-clock",
        action="store_true",
        help="start a virtual clock that only /__emulator__/clock moves",
    )
    serve.set_defaults(func=_serve)

    sweep = commands.add_parser("sweep", help="delete users whose username starts with PREFIX")
    sweep.add_argument("--prefix", required=True, help="username prefix, e.g. tokenrig-")
    sweep.add_argument(
        "--jumpcloud",
        default=None,
        metavar="URL",
        help="console URL (default: $JUMPCLOUD_URL, else https://console.jumpcloud.com)",
    )
    sweep.add_argument("--dry-run", action="store_true", help="list, do not delete")
    sweep.set_defaults(func=_sweep)


def _serve(args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be 0..65535, got {args.port}")
    key = args.api_key or os.environ.get("JUMPCLOUD_API_KEY") or DEFAULT_EMULATOR_KEY
    source = (
        "--api-key"
        if args.api_key
        else "$JUMPCLOUD_API_KEY"
        if os.environ.get("JUMPCLOUD_API_KEY")
        else f"the default {DEFAULT_EMULATOR_KEY!r}"
    )
    clock = VirtualClock(start=time.time()) if args.virtual_clock else None
    try:
        emulator = Emulator(api_key=key, clock=clock, host=args.host, port=args.port)
        emulator.start()
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from exc
    print(f"JumpCloud emulator listening on {emulator.url}", flush=True)
    print(f"API key: {source}; controls under {emulator.url}/__emulator__/", flush=True)
    try:
        emulator.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
    print("JumpCloud emulator stopped", file=sys.stderr)
    return EXIT_OK


def _sweep(args: argparse.Namespace) -> int:
    if not PREFIX.fullmatch(args.prefix):
        raise UsageError(
            f"--prefix {args.prefix!r}: give at least 3 characters of a username"
            " (letter first, then letters, digits, '.', '_' or '-')"
        )
    config = checked_org(args.jumpcloud)
    deleted = 0
    breaker = CircuitBreaker()
    with JumpCloudClient(config, breaker=breaker) as client:
        try:
            leftovers = [u for u in client.iter_users() if u.username.startswith(args.prefix)]
        except JumpCloudError as exc:
            print(f"tokenrig jumpcloud sweep: {exc}", file=sys.stderr)
            return EXIT_FAIL
        for user in leftovers:
            if args.dry_run:
                print(f"would delete {user.username} ({user.id})")
                continue
            try:
                client.delete_user(user.id)
            except JumpCloudError as exc:
                print(f"could not delete {user.username}: {exc}", file=sys.stderr)
                if breaker.tripped:  # the org went away: the rest would only wait and fail
                    break
            else:
                deleted += 1
                print(f"deleted {user.username} ({user.id})")
    if args.dry_run:
        print(f"found {len(leftovers)} user(s) with prefix {args.prefix!r}")
        return EXIT_OK
    print(f"deleted {deleted} user(s) with prefix {args.prefix!r}")
    if deleted < len(leftovers):
        print(f"{len(leftovers) - deleted} user(s) left; run sweep again", file=sys.stderr)
        return EXIT_FAIL
    return EXIT_OK


def checked_org(url: str | None) -> JumpCloudConfig:
    """The org ``--jumpcloud``/``$JUMPCLOUD_URL`` names, after one request showed it answers
    to the key like the JumpCloud console API; a :class:`UsageError` naming URL and cause
    (never the key) otherwise."""
    try:
        config = JumpCloudConfig.from_env(url)
    except ConfigError as exc:
        raise UsageError(str(exc)) from exc
    try:
        check_org(config)
    except OrgCheckError as exc:
        raise UsageError(f"--jumpcloud {exc}") from None
    return config
