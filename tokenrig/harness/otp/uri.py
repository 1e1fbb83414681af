"""``otpauth://`` Key URIs: parse what QR codes really contain, build what every app reads.

The Key URI format is a wiki page, and apps disagree on its corners (``%3A`` as the label
separator, lower-case ``algorithm=sha1``, spaces in secrets, 80-bit secrets). A harness that
burns seeds from service QR codes must take them as they come *and* tell QA what in them is
non-portable, so parsing has two modes:

* lenient (default): accept what real authenticators accept; each deviation becomes a
  :class:`UriWarning` (field + message) on the result, data a report can show;
* strict: the same deviations raise :class:`UriError` naming the field and why.

Some problems are errors in both modes: no secret, bad base32, an unknown algorithm, digits
or period out of range, a parameter given twice, and QR codes that are not a key at all (a
Google Authenticator export, a Microsoft push activation, a token's own serial barcode).
The secret is carried as :class:`tokenrig.harness.secrets.Secret` and no message ever contains it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import quote, unquote

from tokenrig.harness.otp.base32 import Base32Error, decode_base32, encode_base32
from tokenrig.harness.otp.generator import TotpGenerator
from tokenrig.harness.otp.hotp import MAX_COUNTER, MAX_DIGITS, MIN_DIGITS, Algorithm
from tokenrig.harness.secrets import Secret

RECOMMENDED_SECRET_BITS = 128
MAX_PERIOD = 86_400
PORTABLE_DIGITS = range(6, 9)
COMMON_PERIODS = (30, 60)
_KNOWN_PARAMETERS = ("secret", "issuer", "algorithm", "digits", "period", "counter")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]{0,31}")
_TOKEN2_SERIAL = re.compile(r"8659\d{3,}")


class OtpKind(StrEnum):
    """The URI's type: time-based or counter-based."""

    TOTP = "totp"
    HOTP = "hotp"


@dataclass(frozen=True)
class UriWarning:
    """Something a lenient parse accepted that not every app would (or a harmless oddity)."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class UriError(ValueError):
    """A URI that cannot be used: ``field`` is the part at fault, ``reason`` says why."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


@dataclass(frozen=True)
class OtpUri:
    """One account's key and OTP parameters, as an ``otpauth://`` URI carries them."""

    secret: Secret
    account: str = ""
    issuer: str | None = None
    kind: OtpKind = OtpKind.TOTP
    algorithm: Algorithm = Algorithm.SHA1
    digits: int = 6
    period: int = 30
    counter: int | None = None
    extras: tuple[tuple[str, str], ...] = ()
    warnings: tuple[UriWarning, ...] = field(default=(), compare=False)

    def generator(self) -> TotpGenerator:
        """A code generator for this key (for HOTP, call its ``hotp(counter)``)."""
        return TotpGenerator(
            self.secret, algorithm=self.algorithm, digits=self.digits, period=self.period
        )

    def to_uri(self) -> str:
        """The canonical URI (see :func:`build_uri`)."""
        return build_uri(self)

    def as_dict(self) -> dict[str, object]:
        """JSON-ready fields; the secret appears only as its size and fingerprint."""
        return {
            "type": self.kind.value,
            "issuer": self.issuer,
            "account": self.account,
            "secret": {"bits": len(self.secret) * 8, "fingerprint": self.secret.fingerprint},
            "algorithm": self.algorithm.value,
            "digits": self.digits,
            "period": self.period if self.kind is OtpKind.TOTP else None,
            "counter": self.counter,
            "extras": dict(self.extras),
            "warnings": [{"field": w.field, "message": w.message} for w in self.warnings],
        }


def build_uri(uri: OtpUri) -> str:
    """Canonical URI: ``issuer:account`` label, unpadded upper-case secret, every parameter.

    Parameters that equal the defaults are still written, because several apps ignore
    defaults they do not know and explicit values make a QR self-describing.
    """
    for name, value in (("issuer", uri.issuer), ("account", uri.account)):
        if value and ":" in value:
            raise UriError(name, "may not contain ':' (it separates issuer and account)")
    label = quote(uri.account, safe="")
    if uri.issuer:
        label = f"{quote(uri.issuer, safe='')}:{label}"
    params = [("secret", encode_base32(uri.secret.reveal()))]
    if uri.issuer:
        params.append(("issuer", uri.issuer))
    params += [("algorithm", uri.algorithm.value), ("digits", str(uri.digits))]
    if uri.kind is OtpKind.HOTP:
        params.append(("counter", str(uri.counter or 0)))
    else:
        params.append(("period", str(uri.period)))
    for name, value in uri.extras:
        if name.lower() in _KNOWN_PARAMETERS:
            raise UriError(name, "an extra parameter may not repeat a standard one")
        params.append((name, value))
    query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in params)
    return f"otpauth://{uri.kind.value}/{label}?{query}"


def parse_uri(text: str, *, strict: bool = False) -> OtpUri:
    """Parse an ``otpauth://`` URI; raise :class:`UriError` (field, reason) if unusable."""
    return _Parser(strict).parse(text)


def wrong_qr_reason(text: str) -> str | None:
    """Why ``text`` is not a key URI at all, for the QR codes people scan by mistake."""
    lower = text.lower()
    if lower.startswith("otpauth-migration:"):
        return (
            "this is a Google Authenticator export (otpauth-migration://) holding encoded "
            "accounts, not one key; export the account from the service as an otpauth:// QR"
        )
    if lower.startswith("phonefactor:"):
        return (
            "this is a Microsoft Authenticator push activation (phonefactor://), which has no "
            "TOTP seed; choose 'different authenticator app' at the service to get one"
        )
    if lower.startswith("fido:/"):
        return "this is a passkey (FIDO:/) QR code, not a TOTP seed"
    if _TOKEN2_SERIAL.fullmatch(text):
        return (
            "this is a hardware token's own serial-number barcode (8659...), not a seed QR; "
            "scan the service's QR code instead"
        )
    if text.isdigit():
        return "this is a barcode of digits, not an otpauth:// URI"
    if not lower.startswith("otpauth://"):
        scheme = text.partition(":")[0]
        if ":" in text and _SCHEME.fullmatch(scheme):
            return f"scheme {scheme!r} is not otpauth://; this QR code is not a TOTP/HOTP key"
        return "not an otpauth:// URI (expected otpauth://totp/LABEL?secret=...)"
    return None


class _Parser:
    """One parse: the mode, and the warnings collected so far."""

    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self.warnings: list[UriWarning] = []

    def deviation(self, field: str, message: str) -> None:
        """Not portable: an error in strict mode, a warning in lenient mode."""
        if self.strict:
            raise UriError(field, message)
        self.warnings.append(UriWarning(field, message))

    def note(self, field: str, message: str) -> None:
        """Worth knowing in either mode, but no reason to refuse the URI."""
        self.warnings.append(UriWarning(field, message))

    def decode(self, field: str, raw: str, *, plus_is_space: bool = False) -> str:
        if _BAD_PERCENT.search(raw):
            self.deviation(field, "contains a '%' that does not start a %XX escape; kept as is")
        if plus_is_space:
            raw = raw.replace("+", " ")
        try:
            return unquote(raw, errors="strict")
        except UnicodeDecodeError:
            raise UriError(field, "percent-escapes do not decode as UTF-8") from None

    def parse(self, text: str) -> OtpUri:
        if not isinstance(text, str):
            raise UriError("uri", f"must be text, got {type(text).__name__}")
        stripped = text.strip()
        if not stripped:
            raise UriError("uri", "empty")
        if stripped != text:
            self.deviation("uri", "leading or trailing whitespace around the URI")
        reason = wrong_qr_reason(stripped)
        if reason:
            raise UriError("scheme", reason)
        rest = stripped[len("otpauth://") :]
        rest, hash_sign, _ = rest.partition("#")
        if hash_sign:
            self.deviation("uri", "has a '#fragment', which is not part of the format; ignored")
        path, _, query = rest.partition("?")
        kind_text, slash, raw_label = path.partition("/")
        kind = self.parse_kind(kind_text)
        issuer_in_label, account = self.parse_label(raw_label if slash else "")
        params, extras = self.parse_query(query)
        secret = self.parse_secret(params.get("secret"))
        algorithm = self.parse_algorithm(params.get("algorithm"))
        digits = self.parse_digits(params.get("digits"))
        period = self.parse_period(params.get("period"), kind)
        counter = self.parse_counter(params.get("counter"), kind)
        issuer = self.parse_issuer(params.get("issuer"), issuer_in_label)
        return OtpUri(
            secret=secret,
            account=account,
            issuer=issuer,
            kind=kind,
            algorithm=algorithm,
            digits=digits,
            period=period,
            counter=counter,
            extras=tuple(extras),
            warnings=tuple(self.warnings),
        )

    def parse_kind(self, text: str) -> OtpKind:
        lowered = text.lower()
        if lowered not in ("totp", "hotp"):
            shown = text if len(text) <= 20 else text[:20] + "..."
            raise UriError("type", f"{shown!r} is not an OTP type; expected totp or hotp")
        if text != lowered:
            self.deviation("type", f"{text!r} should be lower case ('{lowered}'); pyotp refuses it")
        return OtpKind(lowered)

    def parse_label(self, raw: str) -> tuple[str | None, str]:
        if not raw:
            self.deviation("label", "missing: the URI names no account")
            return None, ""
        if ":" in raw:
            raw_issuer, _, raw_account = raw.partition(":")
        elif "%3a" in raw.lower():
            index = raw.lower().index("%3a")
            raw_issuer, raw_account = raw[:index], raw[index + 3 :]
            self.deviation(
                "label",
                "issuer and account are separated by an encoded colon (%3A); pyotp and some "
                "apps show it as part of the account name",
            )
        else:
            return None, self.decode("label", raw).strip()
        issuer = self.decode("label", raw_issuer).strip()
        account = self.decode("label", raw_account).strip()
        if ":" in account:
            self.deviation("label", "more than one ':'; issuer and account may not contain one")
        if not account:
            self.deviation("label", "the account name after the issuer prefix is empty")
        return issuer or None, account

    def parse_query(self, query: str) -> tuple[dict[str, str], list[tuple[str, str]]]:
        params: dict[str, str] = {}
        extras: list[tuple[str, str]] = []
        for piece in query.split("&"):
            if not piece:
                continue
            raw_name, equals, raw_value = piece.partition("=")
            name = self.decode("parameter", raw_name, plus_is_space=True)
            shown = name if len(name) <= 20 else name[:20] + "..."
            if not shown:
                shown = "parameter"  # "=value" with no name: still say where the problem is
            if not equals:
                self.deviation(shown, "parameter has no '=value'; ignored")
                continue
            key = name.lower()
            if key not in _KNOWN_PARAMETERS:
                extras.append((name, self.decode(shown, raw_value, plus_is_space=True)))
                self.note(shown, "unknown parameter; kept, but not used for codes")
                continue
            if name != key:
                self.deviation(key, f"parameter name {name!r} should be lower case")
            value = self.decode(key, raw_value, plus_is_space=True)
            if key in params:
                raise UriError(key, "given more than once; refusing to guess which applies")
            if value == "":
                self.deviation(key, "empty value; treated as absent")
                continue
            params[key] = value
        return params, extras

    def parse_secret(self, value: str | None) -> Secret:
        if value is None:
            raise UriError("secret", "missing: an otpauth URI must carry the key (secret=...)")
        try:
            decoded = decode_base32(value, strict=self.strict)
        except Base32Error as exc:
            raise UriError("secret", f"invalid base32: {exc.reason}") from None
        for repair in decoded.repairs:
            self.warnings.append(UriWarning("secret", repair))
        bits = len(decoded.key) * 8
        if bits < RECOMMENDED_SECRET_BITS:
            self.note(
                "secret",
                f"{bits} bits is below the {RECOMMENDED_SECRET_BITS} bits RFC 4226 requires "
                "(160 recommended); accepted, but pyotp refuses keys under 112 bits",
            )
        return Secret(decoded.key, kind="seed")

    def parse_algorithm(self, value: str | None) -> Algorithm:
        if value is None:
            return Algorithm.SHA1
        canonical = value.upper().replace("-", "").strip()
        if canonical not in Algorithm.__members__:
            shown = value if len(value) <= 20 else value[:20] + "..."
            raise UriError("algorithm", f"{shown!r} is not supported; use SHA1, SHA256 or SHA512")
        if value != canonical:
            self.deviation(
                "algorithm",
                f"{value!r} should be written {canonical}; Google Authenticator and pyotp "
                "refuse other spellings",
            )
        return Algorithm(canonical)

    def parse_int(self, field: str, value: str) -> int:
        if not (value.isascii() and value.isdigit()):
            stripped = value.strip()
            if stripped.isascii() and stripped.isdigit():
                self.deviation(field, "whitespace around the number")
                value = stripped
            else:
                shown = value if len(value) <= 20 else value[:20] + "..."
                raise UriError(field, f"{shown!r} is not a whole number")
        return int(value)

    def parse_digits(self, value: str | None) -> int:
        if value is None:
            return 6
        digits = self.parse_int("digits", value)
        if not MIN_DIGITS <= digits <= MAX_DIGITS:
            raise UriError("digits", f"{digits} is out of range {MIN_DIGITS}..{MAX_DIGITS}")
        if digits not in PORTABLE_DIGITS:
            self.deviation(
                "digits",
                f"{digits} digits: RFC 4226 asks for at least 6 and most apps accept only 6-8",
            )
        return digits

    def parse_period(self, value: str | None, kind: OtpKind) -> int:
        if value is None:
            return 30
        period = self.parse_int("period", value)
        if kind is OtpKind.HOTP:
            self.note("period", "ignored for hotp")
            return 30
        if not 1 <= period <= MAX_PERIOD:
            raise UriError("period", f"{period} s is out of range 1..{MAX_PERIOD}")
        if period not in COMMON_PERIODS:
            self.note("period", f"{period} s: most tokens and apps support only 30 or 60 s")
        return period

    def parse_counter(self, value: str | None, kind: OtpKind) -> int | None:
        if kind is OtpKind.TOTP:
            if value is not None:
                self.note("counter", "ignored for totp")
            return None
        if value is None:
            self.deviation("counter", "missing: an hotp URI must give its counter; assuming 0")
            return 0
        counter = self.parse_int("counter", value)
        if counter > MAX_COUNTER:
            raise UriError("counter", "exceeds the 64-bit counter range")
        return counter

    def parse_issuer(self, param: str | None, in_label: str | None) -> str | None:
        if param is not None and in_label is not None and param != in_label:
            self.deviation(
                "issuer",
                f"label prefix {in_label!r} differs from issuer parameter {param!r}; "
                "using the parameter",
            )
        issuer = param if param is not None else in_label
        if issuer is None:
            self.note("issuer", "no issuer; apps will show the account name alone")
        elif ":" in issuer:
            self.deviation("issuer", "contains ':', which the label cannot carry")
        return issuer
