"""``tokenrig burn``: write a seed into tokens over APDUs, from a QR code's URI or a seed file.

    tokenrig burn --uri 'otpauth://totp/...' [--reader NAME | --rig FILE --slot N]
    tokenrig burn --seeds FILE [--reader NAME | --rig FILE]

The APDUs go through a PC/SC reader (an NFC reader, or a Molto2 on USB CCID) or through a
rig slot's NFC pass-through. Every token is checked against its model *before* anything is
written to any of them: a batch with one row a model cannot honour (8 digits on a
single-profile token, a 64-byte seed) writes nothing and exits 2. A Molto2's customer key
comes from ``$TOKENRIG_MOLTO2_KEY`` (16 ASCII characters or 32 hex digits; the factory key
when unset), never from the command line where other users could read it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tokenrig.harness import interrupts
from tokenrig.harness.cli.main import EXIT_FAIL, EXIT_OK, UsageError
from tokenrig.harness.cli.rig_access import open_cli_rig
from tokenrig.harness.clock import SYSTEM_CLOCK
from tokenrig.harness.otp.uri import OtpKind, UriError, parse_uri
from tokenrig.harness.rigs.rig import Rig
from tokenrig.harness.secrets import Secret
from tokenrig.harness.tokens.base import BurnRequest, TokenError
from tokenrig.harness.tokens.models import ModelSpec, UnsupportedConfig, model
from tokenrig.harness.tokens.nfc_token import NfcToken, TokenProgrammer
from tokenrig.harness.tokens.seedfile import SeedEntry, SeedFileError, load_seed_file
from tokenrig.harness.transports.apdu_channel import ApduChannel, RigApduChannel
from tokenrig.harness.transports.pcsc import PcscChannel, ReaderNotFound, list_readers
from tokenrig.harness.transports.token2 import (
    AuthenticationFailed,
    Molto2Programmer,
    SingleProfileProgrammer,
)
from tokenrig.harness.transports.token2.customer_key import (
    MOLTO2_KEY_ENV,
    CustomerKeyError,
    customer_key_from_env,
)

MOLTO2_READER_HINT = "token2"
SCAN_TIMEOUT = 1.0  # seconds to wait for a card on each reader when matching serials


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("burn", help="burn seeds into tokens over NFC/CCID APDUs")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument(
        "--uri", metavar="URI", help="an otpauth://totp/ URI (the QR code's text); - reads stdin"
    )
    what.add_argument("--seeds", type=Path, metavar="FILE", help="CSV: slot|serial,secret,...")
    parser.add_argument("--reader", metavar="NAME", help="PC/SC reader (name or part of it)")
    parser.add_argument(
        "--rig", metavar="FILE", help="rig file or URL whose NFC pass-through to use"
    )
    parser.add_argument("--slot", type=int, metavar="N", help="rig slot (with --rig and --uri)")
    parser.add_argument("--model", metavar="NAME", help="token model, when the serial does not say")
    parser.add_argument(
        "--wait", type=float, default=0.0, metavar="SECONDS",
        help="a rig someone else holds (labgrid place, locked rig): wait up to SECONDS for it",
    )  # fmt: skip
    parser.set_defaults(func=run)


@dataclass
class Target:
    """A token ready to burn, and what to burn into it."""

    token: NfcToken
    where: str
    request: BurnRequest


def run(args: argparse.Namespace) -> int:
    if args.reader and args.rig:
        raise UsageError("give --reader or --rig, not both")
    if args.slot is not None and args.seeds:
        raise UsageError("--slot goes with --uri; a seed file names its own slots")
    if args.slot is not None and not args.rig:
        raise UsageError("--slot needs --rig")
    spec = _model(args.model)
    try:
        # A rig is released (a labgrid place given back) on SIGTERM too, not only on Ctrl-C.
        with interrupts.installed(), contextlib.ExitStack() as stack:
            return _run(args, spec, stack)
    except ReaderNotFound as exc:
        raise UsageError(str(exc)) from None
    except TokenError as exc:  # the path to a token broke before any write
        print(f"tokenrig burn: {exc}", file=sys.stderr)
        return EXIT_FAIL


def _run(args: argparse.Namespace, spec: ModelSpec | None, stack: contextlib.ExitStack) -> int:
    rig = stack.enter_context(_open_rig(args.rig, args.wait)) if args.rig else None
    if args.uri:
        request = _request_from_uri(args.uri)
        targets = [_uri_target(args, rig, spec, request, stack)]
    else:
        targets = _seed_targets(args, rig, spec, stack)
    for target in targets:  # every check before the first write
        try:
            target.request.check_against(target.token.spec)
        except UnsupportedConfig as exc:
            raise UsageError(f"{target.where}: refused, nothing written: {exc}") from None
    failures = 0
    for target in targets:
        failures += not _burn(target)
    return EXIT_FAIL if failures else EXIT_OK


def _burn(target: Target) -> bool:
    token, request = target.token, target.request
    try:
        token.burn(request)
    except AuthenticationFailed as exc:
        hint = _key_hint(token) if exc.command == "authentication" else ""
        print(f"tokenrig burn: {exc}{hint}", file=sys.stderr)
        return False
    except TokenError as exc:
        print(f"tokenrig burn: {exc}", file=sys.stderr)
        return False
    when = datetime.fromtimestamp(token.read_clock(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    print(
        f"burned {target.where}: {token.identity.model} {token.identity.serial} "
        f"{request.algorithm.value}/{request.period}s/{request.digits} digits, "
        f"seed {request.secret.fingerprint}, token clock {when}"
    )
    return True


def _model(name: str | None) -> ModelSpec | None:
    if name is None:
        return None
    try:
        return model(name)
    except KeyError as exc:
        raise UsageError(str(exc.args[0])) from None


def _request_from_uri(text: str) -> BurnRequest:
    if text == "-":  # keeps the secret out of the process list and the shell history
        text = sys.stdin.readline().strip()
    try:
        uri = parse_uri(text)
    except UriError as exc:
        raise UsageError(f"--uri: {exc}") from None
    if uri.kind is not OtpKind.TOTP:
        raise UsageError("--uri: a HOTP (counter) URI cannot go on a TOTP token")
    for warning in uri.warnings:
        print(f"tokenrig burn: warning: --uri {warning.field}: {warning.message}", file=sys.stderr)
    return BurnRequest(
        secret=uri.secret, algorithm=uri.algorithm, period=uri.period, digits=uri.digits
    )


@contextlib.contextmanager
def _open_rig(target: str, wait: float = 0.0) -> Iterator[Rig]:
    rig = open_cli_rig(target, clock=SYSTEM_CLOCK, wait=wait)
    with rig:
        if not isinstance(rig, Rig):  # burning goes through the rig protocol's APDU pass-through
            raise UsageError(f"--rig {target}: this kind of rig cannot pass APDUs; use --reader")
        yield rig


def _programmer(channel: ApduChannel, spec: ModelSpec | None, reader_name: str) -> TokenProgrammer:
    molto = spec.profiles > 1 if spec else MOLTO2_READER_HINT in reader_name.lower()
    if molto:
        return Molto2Programmer(channel, customer_key=_customer_key())
    return SingleProfileProgrammer(channel)


def _key_hint(token: NfcToken) -> str:
    """Which key a refused Molto2 authentication used: the one thing the user can change."""
    if token.spec.profiles == 1:
        return ""
    if os.environ.get(MOLTO2_KEY_ENV):
        refused = f"the Molto2 customer key from ${MOLTO2_KEY_ENV}"
    else:
        refused = f"the Molto2 factory key; set ${MOLTO2_KEY_ENV} to this token's customer key"
    return (
        f"; the token refused {refused}. Each refusal uses up one of the token's tries: check "
        "the key before trying again"
    )


def _customer_key() -> Secret | None:
    try:
        return customer_key_from_env()
    except CustomerKeyError as exc:
        raise UsageError(str(exc)) from None


def _rig_token(rig: Rig, slot: int, spec: ModelSpec | None) -> NfcToken:
    rig_token = rig.token(slot)
    spec = spec or rig_token.spec
    channel = RigApduChannel(rig.client, slot, rig_name=f"rig {rig.name}")
    programmer = _programmer(channel, spec, "")
    return NfcToken(programmer, spec=spec, display=rig_token, clock=SYSTEM_CLOCK)


def _reader_token(
    reader: str | None,
    spec: ModelSpec | None,
    stack: contextlib.ExitStack,
    *,
    connect_timeout: float = 5.0,
) -> NfcToken:
    channel = stack.enter_context(PcscChannel(reader, connect_timeout=connect_timeout))
    programmer = _programmer(channel, spec, channel.name)
    if spec is None and isinstance(programmer, Molto2Programmer):
        spec = model("Molto2")
    return NfcToken(programmer, spec=spec, clock=SYSTEM_CLOCK)


def _uri_target(
    args: argparse.Namespace,
    rig: Rig | None,
    spec: ModelSpec | None,
    request: BurnRequest,
    stack: contextlib.ExitStack,
) -> Target:
    if rig is not None:
        if args.slot is None:
            raise UsageError("--rig needs --slot N with --uri")
        try:
            token = _rig_token(rig, args.slot, spec)
        except TokenError as exc:  # no such slot, an empty slot: the user's setup, not a burn
            raise UsageError(f"--slot {args.slot}: {exc}") from None
        return Target(token, f"rig {rig.name} slot {args.slot}", request)
    token = _reader_token(args.reader, spec, stack)
    return Target(token, str(token.where), request)


def _seed_targets(
    args: argparse.Namespace, rig: Rig | None, spec: ModelSpec | None, stack: contextlib.ExitStack
) -> list[Target]:
    try:
        seeds = load_seed_file(args.seeds, log_warnings=False)  # printed here, once
    except SeedFileError as exc:
        raise UsageError(str(exc)) from None
    for warning in seeds.warnings:
        print(f"tokenrig burn: warning: {warning}", file=sys.stderr)
    if seeds.key == "slot":
        if rig is None:
            raise UsageError(f"{seeds.path}: a 'slot' seed file needs --rig")
        _check_slots(seeds.path, seeds.entries, rig)
        return [
            Target(_rig_token(rig, e.slot or 0, spec), f"rig {rig.name} slot {e.slot}", e.request())
            for e in seeds.entries
        ]
    tokens = _tokens_by_serial(args, rig, spec, stack)
    targets = []
    missing = []
    for entry in seeds.entries:
        found = tokens.get(entry.serial or "")
        if found is None:
            missing.append(_missing(seeds.path, entry))
        else:
            targets.append(Target(found[0], found[1], entry.request()))
    if missing:
        raise UsageError("; ".join(missing) + "; nothing written")
    return targets


def _check_slots(path: Path, entries: tuple[SeedEntry, ...], rig: Rig) -> None:
    """Every row's slot exists and holds a token, before anything is written to any."""
    slots = {info.slot: info for info in rig.slots()}
    problems = []
    for entry in entries:
        info = slots.get(entry.slot or 0)
        if info is None:
            reason = f"rig {rig.name} has slots 1..{len(slots)}" if slots else "rig has no slots"
        elif not info.present:
            reason = f"empty on rig {rig.name}"
        else:
            continue
        problems.append(f"{path}:{entry.line}: slot {entry.slot}: {reason}")
    if problems:
        raise UsageError("; ".join(problems) + "; nothing written")


def _missing(path: Path, entry: SeedEntry) -> str:
    return f"{path}:{entry.line}: serial {entry.serial} is on no reader or rig slot"


def _tokens_by_serial(
    args: argparse.Namespace, rig: Rig | None, spec: ModelSpec | None, stack: contextlib.ExitStack
) -> dict[str, tuple[NfcToken, str]]:
    found: dict[str, tuple[NfcToken, str]] = {}
    if rig is not None:
        for info in rig.slots():
            if info.present:
                found[info.serial] = (
                    _rig_token(rig, info.slot, spec),
                    f"rig {rig.name} slot {info.slot}",
                )
        return found
    readers = [args.reader] if args.reader else list_readers()
    for reader in readers:
        try:
            token = _reader_token(reader, spec, stack, connect_timeout=SCAN_TIMEOUT)
        except TokenError:
            if args.reader:
                raise
            continue  # no card on this reader
        found[token.identity.serial] = (token, token.where)
    return found
