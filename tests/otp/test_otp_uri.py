"""otpauth:// URIs: strict and lenient parsing, building, round trips, and hostile input."""

from __future__ import annotations

import hashlib

import pyotp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokenrig.harness.otp import Algorithm
from tokenrig.harness.otp.base32 import encode_base32
from tokenrig.harness.otp.uri import OtpKind, OtpUri, UriError, build_uri, parse_uri
from tokenrig.harness.secrets import Secret

SEED = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # RFC test key, 160 bits
KEY = b"12345678901234567890"
WIKI = (
    "otpauth://totp/ACME%20Co:john.doe@email.com?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ"
    "&issuer=ACME%20Co&algorithm=SHA1&digits=6&period=30"
)


def fields(uri: OtpUri) -> set[str]:
    return {w.field for w in uri.warnings}


def test_the_key_uri_format_example_parses_strictly_without_warnings() -> None:
    uri = parse_uri(WIKI, strict=True)
    assert (uri.kind, uri.issuer, uri.account) == (OtpKind.TOTP, "ACME Co", "john.doe@email.com")
    assert (uri.algorithm, uri.digits, uri.period, uri.counter) == (Algorithm.SHA1, 6, 30, None)
    assert len(uri.secret) == 20
    assert uri.warnings == ()


def test_defaults_and_hotp() -> None:
    uri = parse_uri(f"otpauth://hotp/Example:alice?secret={SEED}&issuer=Example&counter=7")
    assert uri.kind is OtpKind.HOTP
    assert uri.counter == 7
    assert uri.generator().hotp(uri.counter) == pyotp.HOTP(SEED).at(7)
    totp = parse_uri(f"otpauth://totp/Example:alice?secret={SEED}&issuer=Example")
    assert (totp.algorithm, totp.digits, totp.period) == (Algorithm.SHA1, 6, 30)


@pytest.mark.parametrize(
    ("uri", "field"),
    [
        (f"otpauth://totp/ACME%3Aalice?secret={SEED}&issuer=ACME", "label"),
        (f"otpauth://totp/ACME:alice?secret={SEED}&issuer=ACME&algorithm=sha256", "algorithm"),
        ("otpauth://totp/ACME:alice?secret=GEZD%20GNBV%20GY3T%20QOJQ&issuer=ACME", "secret"),
        ("otpauth://totp/ACME:alice?secret=GEZD-GNBV-GY3T-QOJQ&issuer=ACME", "secret"),
        (f"otpauth://totp/ACME:alice?secret={SEED}====&issuer=ACME", "secret"),
        (f"otpauth://totp/Other:alice?secret={SEED}&issuer=ACME", "issuer"),
        (f"otpauth://hotp/ACME:alice?secret={SEED}&issuer=ACME", "counter"),
        (f"otpauth://TOTP/ACME:alice?secret={SEED}&issuer=ACME", "type"),
        (f"otpauth://totp/ACME:alice?secret={SEED}&issuer=ACME&digits=4", "digits"),
        (f"otpauth://totp/ACME:alice?secret={SEED}&issuer=ACME&digits=10", "digits"),
        (f"otpauth://totp/ACME:alice?SECRET={SEED}&issuer=ACME", "secret"),
        (f"otpauth://totp/ACME:alice?secret={SEED}&issuer=", "issuer"),
        (f"otpauth://totp/?secret={SEED}&issuer=ACME", "label"),
        (f" otpauth://totp/ACME:alice?secret={SEED}&issuer=ACME ", "uri"),
        (f"otpauth://totp/ACME:alice?secret={SEED}&issuer=ACME&digits=%206", "digits"),
        (f"otpauth://totp/A:b:c?secret={SEED}&issuer=A", "label"),
        (f"otpauth://totp/ACME:alice?secret={SEED}&issuer=ACME#x", "uri"),
        (f"otpauth://totp/AC%ZZME:alice?secret={SEED}&issuer=AC%ZZME", "label"),
    ],
)
def test_lenient_accepts_with_a_warning_what_strict_rejects(uri: str, field: str) -> None:
    lenient = parse_uri(uri)
    assert field in fields(lenient)
    with pytest.raises(UriError) as info:
        parse_uri(uri, strict=True)
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")


def test_lenient_repairs_give_the_right_values() -> None:
    uri = parse_uri(
        "otpauth://totp/ACME%20Co%3A%20alice?secret=gezd gnbv-gy3t qojq gezd gnbv gy3t qojq"
        "&issuer=ACME%20Co&algorithm=sha256&digits=8"
    )
    assert (uri.issuer, uri.account) == ("ACME Co", "alice")
    assert uri.secret == Secret(KEY)
    assert uri.algorithm is Algorithm.SHA256
    mismatch = parse_uri(f"otpauth://totp/Other:alice?secret={SEED}&issuer=ACME")
    assert mismatch.issuer == "ACME"
    assert parse_uri(f"otpauth://hotp/A:b?secret={SEED}&issuer=A").counter == 0


def test_short_secrets_are_accepted_with_a_warning_in_both_modes() -> None:
    for strict in (False, True):
        uri = parse_uri("otpauth://totp/JC:bob?secret=JBSWY3DPEHPK3PXP&issuer=JC", strict=strict)
        assert len(uri.secret) == 10
        assert [w.message for w in uri.warnings if w.field == "secret"] == [
            "80 bits is below the 128 bits RFC 4226 requires (160 recommended); accepted, "
            "but pyotp refuses keys under 112 bits"
        ]


@pytest.mark.parametrize(
    ("uri", "field", "reason"),
    [
        ("otpauth://totp/A:b?issuer=A", "secret", "missing"),
        (
            "otpauth://totp/A:b?secret=GEZ1GNBV&issuer=A",
            "secret",
            "a digit other than 2-7 at position 3",
        ),
        ("otpauth://totp/A:b?secret=GEZDGNBVG&issuer=A", "secret", "do not make whole bytes"),
        (f"otpauth://totp/A:b?secret={SEED}&algorithm=MD5", "algorithm", "'MD5' is not supported"),
        (f"otpauth://totp/A:b?secret={SEED}&digits=11", "digits", "out of range 4..10"),
        (f"otpauth://totp/A:b?secret={SEED}&digits=six", "digits", "not a whole number"),
        (f"otpauth://totp/A:b?secret={SEED}&period=0", "period", "out of range"),
        (f"otpauth://totp/A:b?secret={SEED}&period=-30", "period", "not a whole number"),
        (f"otpauth://hotp/A:b?secret={SEED}&counter=18446744073709551616", "counter", "64-bit"),
        (f"otpauth://totp/A:b?secret={SEED}&secret={SEED}", "secret", "more than once"),
        (f"otpauth://totp/A:b?secret={SEED}&digits=6&digits=8", "digits", "more than once"),
        (f"otpauth://sotp/A:b?secret={SEED}", "type", "'sotp' is not an OTP type"),
        ("otpauth://totp/A:b?secret=%FF%FE", "secret", "UTF-8"),
        ("", "uri", "empty"),
    ],
)
def test_errors_in_both_modes_name_the_field(uri: str, field: str, reason: str) -> None:
    for strict in (False, True):
        with pytest.raises(UriError, match=reason) as info:
            parse_uri(uri, strict=strict)
        assert info.value.field == field


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("otpauth-migration://offline?data=CjEKCkhlbGxvId6tvu8SGA", "Google Authenticator export"),
        ("phonefactor://activate_account?code=123&url=https://x", "Microsoft Authenticator"),
        ("FIDO:/1234567890", "passkey"),
        ("86596001234567", "serial-number barcode"),
        ("4006381333931", "barcode of digits"),
        ("https://example.com/enroll", "scheme 'https' is not otpauth://"),
        ("just some text", "not an otpauth:// URI"),
    ],
)
def test_wrong_qr_codes_are_recognised(text: str, phrase: str) -> None:
    with pytest.raises(UriError, match=phrase) as info:
        parse_uri(text)
    assert info.value.field == "scheme"


def test_unknown_parameters_are_kept_and_noted() -> None:
    uri = parse_uri(f"otpauth://totp/A:b?secret={SEED}&issuer=A&image=https%3A%2F%2Fx%2Fy.png")
    assert uri.extras == (("image", "https://x/y.png"),)
    assert "image" in fields(uri)
    assert "image=https%3A%2F%2Fx%2Fy.png" in uri.to_uri()


def test_the_secret_is_never_in_reprs_dicts_warnings_or_errors() -> None:
    uri = parse_uri(f"otpauth://totp/A:b?secret={SEED}&issuer=A&algorithm=sha1")
    shown = repr(uri) + str(uri.as_dict()) + " ".join(map(str, uri.warnings))
    assert SEED not in shown
    assert KEY.decode() not in shown
    assert uri.as_dict()["secret"] == {"bits": 160, "fingerprint": Secret(KEY).fingerprint}
    with pytest.raises(UriError) as info:
        parse_uri(f"otpauth://totp/A:b?secret={SEED}1", strict=True)
    assert SEED not in str(info.value)


def test_pyotp_reads_what_we_build() -> None:
    uri = OtpUri(
        Secret(KEY), "alice@example.com", "ACME Co", algorithm=Algorithm.SHA256, digits=8, period=60
    )
    built = build_uri(uri)
    assert built.startswith("otpauth://totp/ACME%20Co:alice%40example.com?secret=" + SEED)
    oracle = pyotp.parse_uri(built)
    assert (oracle.name, oracle.issuer, oracle.digits, oracle.interval) == (
        "alice@example.com",
        "ACME Co",
        8,
        60,
    )
    assert oracle.at(1_800_000_000) == uri.generator().at(1_800_000_000)


def test_build_refuses_a_colon_in_issuer_or_account() -> None:
    with pytest.raises(UriError, match="issuer: may not contain ':'"):
        build_uri(OtpUri(Secret(KEY), "a", "x:y"))
    with pytest.raises(UriError, match="account: may not contain ':'"):
        build_uri(OtpUri(Secret(KEY), "a:b", "x"))


names = (
    st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters=":"),
        min_size=1,
        max_size=30,
    )
    .map(str.strip)
    .filter(bool)
)
uris = st.builds(
    OtpUri,
    secret=st.binary(min_size=1, max_size=64).map(Secret),
    account=names,
    issuer=st.none() | names,
    kind=st.sampled_from(list(OtpKind)),
    algorithm=st.sampled_from(list(Algorithm)),
    digits=st.integers(4, 10),
    period=st.integers(1, 86_400),
)


@given(uris)
def test_build_then_parse_round_trips(uri: OtpUri) -> None:
    if uri.kind is OtpKind.HOTP:
        uri = OtpUri(
            uri.secret, uri.account, uri.issuer, uri.kind, uri.algorithm, uri.digits, 30, 5
        )
    assert parse_uri(build_uri(uri)) == uri


@given(
    key=st.binary(min_size=14, max_size=64),
    account=names,
    issuer=names,
    algorithm=st.sampled_from(list(Algorithm)),
    digits=st.integers(6, 8),
    period=st.integers(1, 120),
)
def test_round_trip_agrees_with_pyotp(
    key: bytes, account: str, issuer: str, algorithm: Algorithm, digits: int, period: int
) -> None:
    built = pyotp.TOTP(
        encode_base32(key),
        digits=digits,
        digest=getattr(hashlib, algorithm.digest_name),
        interval=period,
    ).provisioning_uri(name=account, issuer_name=issuer)
    ours = parse_uri(built, strict=True)
    assert (ours.account, ours.issuer, ours.algorithm) == (account, issuer, algorithm)
    assert (ours.digits, ours.period, ours.secret) == (digits, period, Secret(key))
    theirs = pyotp.parse_uri(build_uri(ours))
    assert theirs.at(1_700_000_000) == ours.generator().at(1_700_000_000)


def _parse_or_error(text: str, *, strict: bool) -> OtpUri | UriError:
    """The parse result or its UriError; any other exception propagates and fails the test."""
    try:
        return parse_uri(text, strict=strict)
    except UriError as exc:
        return exc


@given(st.text(max_size=200))
def test_any_text_gives_a_uri_or_a_uri_error(text: str) -> None:
    outcome = _parse_or_error(text, strict=False)
    if isinstance(outcome, UriError):
        assert outcome.field
        assert outcome.reason
    else:
        assert isinstance(outcome, OtpUri)


query_parts = st.lists(
    st.sampled_from(
        [
            "secret=",
            SEED,
            "GEZD",
            "=",
            "&",
            "%",
            "%3A",
            "%ZZ",
            "digits=",
            "period=",
            "counter=",
            "algorithm=",
            "issuer=",
            "sha1",
            "8",
            "-1",
            "x",
            " ",
            "+",
            "#",
            ":",
            "?",
            "/",
            "==",
        ]
    ),
    max_size=25,
).map("".join)


@given(
    kind=st.sampled_from(["totp", "hotp", "TOTP", "x", ""]),
    label=st.text(max_size=20),
    query=query_parts,
    strict=st.booleans(),
)
def test_near_miss_uris_give_a_uri_or_a_uri_error(
    kind: str, label: str, query: str, strict: bool
) -> None:
    outcome = _parse_or_error(f"otpauth://{kind}/{label}?{query}", strict=strict)
    if isinstance(outcome, UriError):
        assert outcome.field
        assert str(outcome).startswith(outcome.field + ": ")


def test_nameless_parameter_with_bad_escape_names_where_it_is() -> None:
    """Regression (found by hypothesis): ``?=%`` gave a UriError with an empty field."""
    with pytest.raises(UriError) as info:
        parse_uri("otpauth://totp/0?=%", strict=True)
    assert info.value.field == "parameter"
