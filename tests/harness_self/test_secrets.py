"""Secret wrappers, redacting dataclass reprs, the shared text scrub and the station-keyed
fingerprint: a seed never leaks through repr/str/format/pickle/exceptions/log text, and its
fingerprint gives nothing to whoever lacks the station's key."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import importlib
import inspect
import pickle
import pkgutil
import pprint
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tokenrig
from tokenrig.harness import fingerprint_key
from tokenrig.harness.scrub import scrub_text
from tokenrig.harness.secrets import Secret, SecretText, fingerprint, is_secret_field
from tokenrig.harness.tokens.rig_answers import quote_answer
from tokenrig.harness.transports.wire_log import WireLog, describe_bytes, scrub_hex


@given(st.binary(min_size=8, max_size=64))  # 16+ hex chars: cannot hide in a fingerprint
def test_secret_never_prints_its_bytes(value: bytes) -> None:
    secret = Secret(value, "seed")
    for text in (repr(secret), str(secret), f"{secret}", f"{secret!r}", repr([secret])):
        assert value.hex() not in text
        assert "seed" in text
        assert secret.fingerprint in text
    assert secret.reveal() == value
    assert len(secret) == len(value)


def test_secret_in_an_exception_message_stays_hidden() -> None:
    secret = Secret(b"canary-seed-bytes!!", "seed")
    with pytest.raises(RuntimeError) as info:
        raise RuntimeError(f"burn failed for {secret}")
    assert "canary" not in str(info.value)


@pytest.mark.parametrize(
    "secret", [Secret(b"0123456789", "seed"), SecretText("hunter2", "password")]
)
def test_secrets_refuse_pickling(secret: object) -> None:
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(secret)


def test_secret_text_repr_is_redacted_and_compares_by_value() -> None:
    key = SecretText("jca_canary_api_key", "api key")
    assert "canary" not in repr(key)
    assert "canary" not in f"{key}"
    assert key == SecretText("jca_canary_api_key")
    assert key != SecretText("other")
    assert not SecretText("")


def test_fingerprint_is_stable_short_and_distinguishes_seeds() -> None:
    assert fingerprint(b"abc") == fingerprint(b"abc")
    assert fingerprint(b"abc") != fingerprint(b"abd")
    assert fingerprint(b"abc").startswith("fp:")
    assert len(fingerprint(b"abc")) == 15


def test_secret_rejects_text() -> None:
    with pytest.raises(TypeError, match="seed must be bytes"):
        Secret("not bytes", "seed")  # type: ignore[arg-type]


# --- scrub_text: every spelling of seed bytes is hidden, ordinary text is kept ---------------

SEED = b"tokenrig-canary\x00\x00\x00\x00\x01"  # 20 bytes; the prefix is readable ASCII


def _spellings(seed: bytes) -> dict[str, str]:
    b32 = base64.b32encode(seed).decode()
    return {
        "hex": seed.hex(),
        "HEX": seed.hex().upper(),
        "colon hex": seed.hex(":").upper(),
        "spaced hex": seed.hex(" "),
        "dashed hex": seed.hex("-"),
        "C array": ", ".join(f"0x{b:02X}" for b in seed),
        "escapes": "".join(f"\\x{b:02x}" for b in seed),
        "bytes repr": repr(seed),
        "bytearray repr": repr(bytearray(seed)),
        "base32": b32,
        "base32 lower unpadded": b32.lower().rstrip("="),
        "base32 grouped": " ".join(b32.rstrip("=")[i : i + 4] for i in range(0, 32, 4)),
        "base64": base64.b64encode(seed).decode(),
    }


def _visible(seed: bytes, text: str) -> list[str]:
    """Which spellings of ``seed`` (or of its first 8 bytes) can still be read in ``text``."""
    low = text.lower()
    found = [name for name, form in _spellings(seed).items() if form.lower() in low]
    for name, form in _spellings(seed[:8]).items():  # a part of a seed is a leak too
        if name not in {"base32", "base64", "base32 lower unpadded"} and form.lower() in low:
            found.append(f"first 8 bytes as {name}")
    return found


@pytest.mark.parametrize("name", list(_spellings(SEED)))
def test_scrub_text_hides_each_spelling_inside_a_sentence(name: str) -> None:
    form = _spellings(SEED)[name]
    text = f"ERR 300 card refused apdu {form} (slot 1)"
    scrubbed = scrub_text(text)
    assert _visible(SEED, scrubbed) == [], scrubbed
    assert scrubbed.startswith("ERR 300 card refused apdu ")
    assert "<" in scrubbed
    assert scrubbed.endswith("(slot 1)")


@given(st.binary(min_size=10, max_size=64))
def test_scrub_text_hides_random_seeds_as_hex_in_every_separator(seed: bytes) -> None:
    for form in (seed.hex(), seed.hex(":"), seed.hex(" "), seed.hex("-"), repr(seed)):
        assert seed.hex() not in scrub_text(f"x {form} y").replace(":", "").replace(" ", "")


def test_scrub_text_keeps_the_contiguous_hex_placeholder_logs_and_tests_match() -> None:
    assert scrub_text(f"OK 1 {SEED.hex()}") == "OK 1 <40 hex digits>"
    assert scrub_text("84:C5:01:00:" + SEED.hex(":")) == "<24 bytes as hex>"


@pytest.mark.parametrize(
    "text",
    [
        "OK 8659600000001 1700000000123",  # a serial and a millisecond timestamp
        "2026-11-29T03:30:00.123456Z rig > @1 DISP? 3",
        "@7 OK 123456 654321 000042",
        "aa:bb:cc:dd:ee:ff",  # a MAC address: 6 bytes, under the 8 that are hidden
        "a1b2c3d4-e5f6-4789-abcd-ef0123456789",  # a UUID (allure names files by them)
        "FileNotFoundError PytestAssertRewriteWarning HTTPConnectionPool JSONDecodeError",
        "/work/main/.venv/lib/python3.11/site-packages/_pytest/config/__init__.py:1507",
        "tokenrig.harness.qualify.diagnose sha1_instead_of_sha256 signed_32bit_time_low32",
        "internationalization PASS FAIL PASS FAIL",
        "assert response.data == b'\\x90\\x00'",  # a status word: too short to be a seed
        "test_qualification.py::test_burn[8659600000001]",
    ],
)
def test_scrub_text_leaves_ordinary_harness_text_alone(text: str) -> None:
    assert scrub_text(text) == text


def test_scrub_text_hides_a_bytes_literal_cut_short_by_saferepr() -> None:
    """pytest shortens long reprs in the middle: the literal loses its closing quote."""
    assert "tokenri" not in scrub_text("Burned(key=b'tokenri...m=SHA1, period=30)")


def test_rig_answer_quotes_and_wire_log_use_the_same_scrub() -> None:
    answer = ["300", "refused", SEED.hex(":")]
    assert _visible(SEED, quote_answer(answer)) == []
    assert quote_answer(answer) == scrub_text(" ".join(answer))
    assert scrub_hex(" ".join(answer)) == scrub_text(" ".join(answer))
    described = describe_bytes(b"echo " + SEED.hex(" ").encode() + b"\r\n", 200)
    assert _visible(SEED, described) == [], described


# --- redacting reprs: every dataclass that holds secret material -----------------------------


def _holders() -> list[object]:
    from tokenrig.harness.jumpcloud.emulator.models import MailKind, MailMessage, SystemUser
    from tokenrig.harness.jumpcloud.emulator.portal_state import PortalSession, PortalState
    from tokenrig.harness.jumpcloud.emulator.server import Request, Response
    from tokenrig.harness.otp.hotp import Algorithm
    from tokenrig.harness.qualify.diagnose import Burned
    from tokenrig.harness.sim.apdu_card import _Apdu
    from tokenrig.harness.transports import rig_protocol
    from tokenrig.harness.transports.rig_client import Exchange
    from tokenrig.harness.transports.token2 import apdu, tlv

    b32 = base64.b32encode(SEED).decode()
    session = PortalSession(id=b32, xsrf=SEED.hex(), created=0.0)
    return [
        Burned(key=SEED, algorithm=Algorithm.SHA1, period=30),
        apdu.Response(data=SEED, sw=0x9000),
        tlv.Tlv(tag=0x70, value=SEED),
        _Apdu(0x84, 0xC5, 0x01, 0x00, SEED),
        Request("POST", "/x", {}, {"x-api-key": b32}, SEED, {}),
        Response(200, f'{{"secret": "{b32}"}}'.encode(), headers=[("set-cookie", b32)]),
        MailMessage(
            "a@example.test", "reset", f"code {b32}", MailKind.PASSWORD_RESET, (f"/r?t={b32}",)
        ),
        SystemUser("u1", "o1", "u", "u@example.test", 0.0, password_hash=b32),
        session,
        PortalState(sessions={b32: session}),
        rig_protocol.Response(ok=False, code=300, text=f"refused {SEED.hex(':')}"),
        rig_protocol.Response(ok=True, values=("1", SEED.hex(" "))),
        Exchange(values=(SEED.hex("-"),), sent_at=0.0, received_at=0.0),
    ]


@pytest.mark.parametrize("holder", _holders(), ids=lambda h: type(h).__qualname__)
def test_every_holder_of_secret_material_has_a_redacting_repr(holder: object) -> None:
    for text in (repr(holder), str(holder), f"{holder!r}", repr([holder]), pprint.pformat(holder)):
        assert _visible(SEED, text) == [], text
        assert "tokenrig-canary" not in text
    assert type(holder).__name__ in repr(holder)


def test_a_redacting_repr_still_shows_what_is_not_secret() -> None:
    from tokenrig.harness.otp.hotp import Algorithm
    from tokenrig.harness.qualify.diagnose import Burned

    shown = repr(Burned(key=SEED, algorithm=Algorithm.SHA256, period=60, digits=8))
    assert shown.startswith("Burned(key=<20 bytes redacted>, algorithm=")
    assert "period=60, digits=8)" in shown


# Fields that look like secret material but are not: name -> why.
NOT_SECRET = {
    "tokenrig.harness.transports.token2.apdu.Command.data": "own repr hides sensitive bodies",
    "tokenrig.harness.otp.base32.DecodedSeed.key": "own repr shows only the length",
}


def test_no_dataclass_holds_bytes_in_a_plain_repr() -> None:
    """Every dataclass field typed ``bytes`` in tokenrig is redacted, or says here why not: a
    new dataclass carrying key material cannot slip into a traceback unnoticed."""
    plain = []
    for info in pkgutil.walk_packages(tokenrig.__path__, "tokenrig."):
        if info.name.endswith("__main__") or ".suites." in info.name:
            continue
        module = importlib.import_module(info.name)
        for name, cls in vars(module).items():
            if not (inspect.isclass(cls) and cls.__module__ == info.name):
                continue
            if not dataclasses.is_dataclass(cls) or "__repr__" not in vars(cls):
                continue
            for item in dataclasses.fields(cls):
                where = f"{info.name}.{name}.{item.name}"
                if (
                    "bytes" in str(item.type)
                    and item.repr
                    and where not in NOT_SECRET
                    and not is_secret_field(cls, item.name)
                ):
                    plain.append(where)
    assert plain == []


# --- fingerprints: keyed per station --------------------------------------------------------


def _fresh_key(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    monkeypatch.setenv(fingerprint_key.ENV, str(path))


def test_the_fingerprint_key_is_made_on_first_use_0600_and_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "state" / "fp.key"
    _fresh_key(monkeypatch, path)
    first = fingerprint(b"abc")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert len(path.read_bytes()) == fingerprint_key.KEY_BYTES
    fingerprint_key._cached.clear()  # a new process reads the same file
    assert fingerprint(b"abc") == first


def test_the_default_key_lives_under_xdg_state_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(fingerprint_key.ENV, raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert fingerprint_key.key_path() == tmp_path / "tokenrig" / "fingerprint.key"


def test_another_station_key_gives_other_fingerprints_and_the_public_key_is_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fresh_key(monkeypatch, tmp_path / "a.key")
    a = fingerprint(b"\x01\x02\x03")
    _fresh_key(monkeypatch, tmp_path / "b.key")
    b = fingerprint(b"\x01\x02\x03")
    assert a != b
    public = hmac.new(b"tokenrig seed fingerprint v1", b"\x01\x02\x03", hashlib.sha256)
    assert "fp:" + public.hexdigest()[:12] not in (a, b)  # the brute-forceable v1 form


def test_a_key_file_other_users_can_read_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "open.key"
    path.write_bytes(b"k" * 32)
    path.chmod(0o644)
    _fresh_key(monkeypatch, path)
    keyed_with_file = "fp:" + hmac.new(b"k" * 32, b"abc", hashlib.sha256).hexdigest()[:12]
    assert fingerprint(b"abc") != keyed_with_file
    err = capsys.readouterr().err
    assert f"{path}: has mode 0644" in err
    assert "chmod 600" in err
    assert "for this run only" in err


def test_outputs_holding_fingerprints_are_written_owner_only(tmp_path: Path) -> None:
    from tokenrig.harness.reports.outputs import write_atomic

    write_atomic(tmp_path / "tokens.csv", "serial,seed_fingerprint\n")
    assert stat.S_IMODE((tmp_path / "tokens.csv").stat().st_mode) == 0o600
    log = WireLog("rig", tmp_path / "wire" / "rig.wire.log")
    log.sent("SEED 1 0 <redacted 20 bytes fp:0123456789ab>")
    log.close()
    assert stat.S_IMODE((tmp_path / "wire" / "rig.wire.log").stat().st_mode) == 0o600
