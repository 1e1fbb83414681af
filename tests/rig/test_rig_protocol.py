"""The rig protocol's parser/formatter: what one side writes, the other reads back unchanged."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokenrig.harness.secrets import SecretText, fingerprint
from tokenrig.harness.transports.rig_client import normalise_url
from tokenrig.harness.transports.rig_protocol import (
    MAX_LINE,
    ErrorCode,
    ProtocolError,
    Request,
    err,
    ok,
    parse_request,
    parse_response,
    peek_tag,
    redact_apdu_response,
)

tags = st.from_regex(r"[0-9A-Za-z]{1,8}", fullmatch=True)
words = st.from_regex(r"[\x21-\x7e]{1,12}", fullmatch=True).filter(lambda w: not w.startswith("@"))
commands = st.from_regex(r"[A-Z*][A-Z:?]{0,8}", fullmatch=True)


@given(tag=st.none() | tags, command=commands, args=st.lists(words, max_size=6))
def test_request_round_trips(tag: str | None, command: str, args: list[str]) -> None:
    request = Request(command=command, args=tuple(args), tag=tag)
    assert parse_request(request.line()) == request


@given(tag=st.none() | tags, values=st.lists(words, max_size=6))
def test_ok_answer_round_trips(tag: str | None, values: list[str]) -> None:
    answer = ok(*values, tag=tag)
    parsed = parse_response(answer.line())
    assert (parsed.ok, parsed.values, parsed.tag) == (True, tuple(values), tag)


@pytest.mark.parametrize("code", list(ErrorCode))
def test_error_answer_carries_code_and_text(code: ErrorCode) -> None:
    parsed = parse_response(err(code, "slot 3", tag="a1").line())
    assert (parsed.ok, parsed.code, parsed.tag) == (False, int(code), "a1")
    assert parsed.text.endswith(": slot 3")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty line"),
        (b"@ PROTO?", "bad tag"),
        (b"@toolongtag PROTO?", "bad tag"),
        (b"@a1", "tag without command"),
        (b"\xff\xfe", "non-ASCII"),
        (b"PRESS\x07 1", "control character"),
    ],
)
def test_malformed_request_is_a_protocol_error(raw: bytes, reason: str) -> None:
    with pytest.raises(ProtocolError, match=reason):
        parse_request(raw)


@pytest.mark.parametrize("raw", [b"HELLO", b"ERR x", b"@a1 MAYBE 1", b"\x00\x01", b"@a1 ERR"])
def test_non_answers_are_protocol_errors(raw: bytes) -> None:
    with pytest.raises(ProtocolError):
        parse_response(raw)


def test_too_long_lines_are_refused_both_ways() -> None:
    with pytest.raises(ProtocolError, match="exceeds"):
        parse_request(b"A" * (MAX_LINE + 1))
    with pytest.raises(ProtocolError, match="exceeds"):
        Request("SEED", ("1", "0", "00" * MAX_LINE)).line()


def test_peek_tag_reads_the_tag_of_an_unparseable_line() -> None:
    assert peek_tag(b"@k9 \xff\xfe") == "k9"
    assert peek_tag(b"\xff@k9") is None


def test_seed_and_apdu_bodies_are_redacted_for_the_log() -> None:
    seed = bytes(range(20))
    seed_line = Request("SEED", ("1", "0", seed.hex()), tag="3").redacted()
    assert seed_line == f"@3 SEED 1 0 <redacted 20 bytes {fingerprint(seed)}>"
    apdu_line = Request("APDU", ("1", "80D40000" + "14" + seed.hex())).redacted()
    assert apdu_line.startswith("APDU 1 80D40000+<redacted 21 bytes")
    assert seed.hex() not in apdu_line
    assert Request("APDU", ("1", "00A40400")).redacted() == "APDU 1 00A40400"
    assert redact_apdu_response("0102039000") == "<3 bytes>9000"
    assert redact_apdu_response("6A82") == "6A82"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("rfc2217://h:7000", "rfc2217://h:7000?ign_set_control"),
        ("rfc2217://h:7000?timeout=1", "rfc2217://h:7000?timeout=1&ign_set_control"),
        ("rfc2217://h:7000?ign_set_control", "rfc2217://h:7000?ign_set_control"),
        ("socket://h:1", "socket://h:1"),
        ("/dev/ttyACM0", "/dev/ttyACM0"),
    ],
)
def test_rfc2217_urls_get_ign_set_control(url: str, expected: str) -> None:
    assert normalise_url(url) == expected


def test_a_secret_argument_is_revealed_only_on_the_wire() -> None:
    seed = bytes(range(20))
    request = Request("SEED", ("1", "0", SecretText(seed.hex(), kind="seed")), tag="7")
    assert request.line() == f"@7 SEED 1 0 {seed.hex()}\n".encode()
    for shown in (repr(request), str(request), request.redacted()):
        assert seed.hex() not in shown
        assert fingerprint(seed) in shown
