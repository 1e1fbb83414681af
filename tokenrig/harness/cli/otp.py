"""``tokenrig otp``: the TOTP core by hand, for QA at a bench and for acceptance scripts.

``code`` computes a code, ``uri`` dissects an otpauth:// URI (what a QR code really says),
``offset`` finds how many steps a token's displayed code is away from the host's clock.
"""

from __future__ import annotations

import argparse
import json
import sys

from tokenrig.harness.cli.main import EXIT_FAIL, EXIT_OK, UsageError
from tokenrig.harness.clock import SYSTEM_CLOCK
from tokenrig.harness.otp.base32 import Base32Error, decode_base32
from tokenrig.harness.otp.generator import TotpGenerator
from tokenrig.harness.otp.hotp import MAX_DIGITS, MIN_DIGITS, RFC_MIN_DIGITS, Algorithm, OTPError
from tokenrig.harness.otp.offset import find_step_offset
from tokenrig.harness.otp.uri import UriError, parse_uri


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("otp", help="compute codes, parse otpauth URIs, find offsets")
    commands = parser.add_subparsers(dest="otp_command", metavar="ACTION")
    commands.required = True

    code = commands.add_parser("code", help="print the TOTP code of a secret at a time")
    _add_key_options(code)
    code.add_argument("--time", type=float, metavar="UNIX", help="seconds since epoch (now)")
    code.set_defaults(func=_code)

    uri = commands.add_parser("uri", help="print an otpauth:// URI's fields as JSON")
    uri.add_argument("uri", metavar="URI")
    uri.add_argument("--strict", action="store_true", help="reject non-portable URIs")
    uri.set_defaults(func=_uri)

    offset = commands.add_parser("offset", help="print the step offset of a displayed code")
    _add_key_options(offset)
    offset.add_argument("--code", required=True, help="the code the token displayed")
    offset.add_argument(
        "--time",
        type=float,
        required=True,
        metavar="UNIX",
        help="host time at which it was displayed",
    )
    offset.add_argument(
        "--window",
        type=int,
        default=10,
        metavar="N",
        help="search ±N steps around the host's step (default 10)",
    )
    offset.set_defaults(func=_offset)


def _add_key_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--secret", required=True, metavar="B32", help="base32 seed")
    parser.add_argument(
        "--algorithm", type=str.upper, default="SHA1", choices=[a.value for a in Algorithm]
    )
    parser.add_argument(
        "--digits", type=int, default=6, metavar="N", help=f"{MIN_DIGITS}..{MAX_DIGITS} (default 6)"
    )
    parser.add_argument("--period", type=int, default=30, metavar="S", help="step (default 30)")


def _generator(args: argparse.Namespace) -> TotpGenerator:
    try:
        key = decode_base32(args.secret).key
    except Base32Error as exc:
        raise UsageError(f"--secret: {exc.reason}") from None
    try:
        generator = TotpGenerator(
            key, algorithm=Algorithm(args.algorithm), digits=args.digits, period=args.period
        )
    except OTPError as exc:
        raise UsageError(str(exc)) from None
    if generator.digits < RFC_MIN_DIGITS:
        # allowed (some tokens and tests use 4 or 5), but a URI with it would get a warning too
        print(
            f"tokenrig otp: note: {generator.digits} digits is below RFC 4226's minimum of "
            f"{RFC_MIN_DIGITS}",
            file=sys.stderr,
        )
    return generator


def _check_time(value: float) -> float:
    if not 0 <= value < 2**64:
        raise UsageError(f"--time must be seconds since 1970 (0..2**64), got {value}")
    return value


def _code(args: argparse.Namespace) -> int:
    generator = _generator(args)
    when = SYSTEM_CLOCK.now() if args.time is None else _check_time(args.time)
    if when.is_integer():
        print(generator.at(int(when)))
    else:
        print(generator.at(when))
    return EXIT_OK


def _uri(args: argparse.Namespace) -> int:
    try:
        parsed = parse_uri(args.uri, strict=args.strict)
    except UriError as exc:
        raise UsageError(str(exc)) from None
    print(json.dumps(parsed.as_dict(), indent=2, ensure_ascii=False))
    return EXIT_OK


def _check_code(code: str, digits: int) -> str:
    """A displayed code the search could ever match, else a usage error saying what is wrong.

    Without this a typo ("12345", "12345O") would search the whole window and report "not
    found" (exit 1), which reads as a token fault rather than a mistyped argument.
    """
    code = code.strip()
    if not code:
        raise UsageError("--code is empty")
    bad = next((i for i, char in enumerate(code) if char not in "0123456789"), None)
    if bad is not None:
        raise UsageError(f"--code must be the digits 0-9 only; position {bad} is not a digit")
    if len(code) != digits:
        raise UsageError(
            f"--code has {len(code)} digit(s) but --digits is {digits}, so it can never match"
        )
    return code


def _offset(args: argparse.Namespace) -> int:
    generator = _generator(args)
    if args.window < 0:
        raise UsageError(f"--window must be >= 0, got {args.window}")
    code = _check_code(args.code, generator.digits)
    when = _check_time(args.time)
    offset = find_step_offset(
        generator, code, int(when) if when.is_integer() else when, window=args.window
    )
    if offset is None:
        print(f"tokenrig otp offset: code not found within ±{args.window} steps", file=sys.stderr)
        return EXIT_FAIL
    print(offset)
    return EXIT_OK
