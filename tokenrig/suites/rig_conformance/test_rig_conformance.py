"""Rig conformance: does a rig speak docs/rig-protocol.md version 1?

Run it against rig firmware with ``pytest tokenrig/suites/rig_conformance --rig /dev/ttyACM0``
(or any
pyserial URL or rig file). Without ``--rig`` it runs against the simulated rig. Tests that
program a token (CONF/SEED) overwrite the seed of the token in the first occupied slot: use a
test token there. A rig that does not program tokens answers ERR 400 and those tests are
skipped with that reason.
"""

from __future__ import annotations

import re

import pytest

from tokenrig.harness.otp.hotp import totp
from tokenrig.harness.rigs.rig import Rig
from tokenrig.harness.tokens.models import model
from tokenrig.harness.transports.rig_client import RigClient, RigCommandError, RigUnsupported

MODEL_NAMES = {
    "miniOTP-2",
    "miniOTP-3",
    "miniOTP-3-NB",
    "OTPC-P1",
    "OTPC-P2",
    "OTPC-P2-NB",
    "C301",
    "C302",
    "Molto2",
    "Molto2v2",
}
RFC_SEED = b"12345678901234567890"
RFC_SEED_HEX = RFC_SEED.hex()
STEP_BOUNDARY = 1_795_920_030  # a multiple of 30 s: a step boundary for either period
CODE = re.compile(r"OFF|[0-9?]+")  # digits as shown, ? for a lit non-digit (§4)


@pytest.fixture
def client(rig: Rig) -> RigClient:
    return rig.client


@pytest.fixture
def slot(client: RigClient) -> int:
    """The first occupied slot."""
    for n in range(1, client.slot_count() + 1):
        if client.slot_info(n).present:
            return n
    pytest.fail("the rig reports no token in any slot; put a test token in one", pytrace=False)


def _raw(client: RigClient, data: bytes) -> str:
    line = client.raw(data)
    assert line is not None, f"no answer to {data[:40]!r}"
    return line.decode("ascii")


def _display(client: RigClient, slot: int) -> tuple[int, str]:
    ms, shown = client.call("DISP?", slot, slot=slot)[:2]
    return int(ms), shown


def _programming(client: RigClient, slot: int, utc: int = 31, timeout: int | None = None) -> str:
    spec = model(client.slot_info(slot).model)
    shown_for = spec.display_timeouts[-1] if timeout is None else timeout
    try:
        return client.call("CONF", slot, 0, utc, "SHA1", 30, 6, shown_for)[0]
    except RigUnsupported as exc:
        if exc.code == 400:
            pytest.skip(f"rig does not program tokens ({exc})")
        raise


# -- identification -------------------------------------------------------------------------


def test_idn_is_maker_model_serial_firmware(client: RigClient) -> None:
    fields = client.identify().split(",")
    assert len(fields) == 4
    assert all(fields), fields


def test_protocol_major_version_is_1(client: RigClient) -> None:
    assert re.fullmatch(r"1\.\d+", client.protocol_version())


def test_every_slot_is_present_with_a_known_model_or_empty(client: RigClient) -> None:
    count = client.slot_count()
    assert count >= 1
    for n in range(1, count + 1):
        info = client.slot_info(n)
        if info.present:
            assert info.model in MODEL_NAMES
            assert info.serial
            assert info.firmware


@pytest.mark.parametrize("where", ["zero", "past_end"])
def test_slot_outside_the_rig_is_err_200(client: RigClient, where: str) -> None:
    n = 0 if where == "zero" else client.slot_count() + 1
    with pytest.raises(RigCommandError) as info:
        client.call("SLOT?", n)
    assert info.value.code == 200


# -- framing --------------------------------------------------------------------------------


def test_unknown_command_is_err_100_with_the_tag(client: RigClient) -> None:
    assert _raw(client, b"@u1 FROBNICATE 1\n").startswith("@u1 ERR 100")


@pytest.mark.parametrize("tag", ["a", "ZZ9", "12345678"])
def test_tags_are_echoed_exactly(client: RigClient, tag: str) -> None:
    assert _raw(client, f"@{tag} PROTO?\n".encode()).startswith(f"@{tag} OK 1.")


def test_untagged_request_gets_an_untagged_answer(client: RigClient) -> None:
    assert _raw(client, b"\nSLOTS?\n") == f"OK {client.slot_count()}"


def test_commands_are_case_insensitive(client: RigClient) -> None:
    assert _raw(client, b"@k1 slots?\n") == f"@k1 OK {client.slot_count()}"


def test_empty_lines_get_no_answer(client: RigClient) -> None:
    assert _raw(client, b"\n\n   \r\n@e1 PROTO?\n").startswith("@e1 OK ")


def test_crlf_terminated_requests_are_accepted(client: RigClient) -> None:
    assert _raw(client, b"@c1 PROTO?\r\n").startswith("@c1 OK ")


def test_over_long_line_is_err_102_once_and_the_rig_recovers(client: RigClient) -> None:
    answer = _raw(client, b"@L1 SLOT? " + b"9" * 1100 + b"\n")
    assert re.match(r"(@L1 )?ERR 102", answer), answer
    assert client.protocol_version().startswith("1.")


def test_garbage_bytes_are_survived(client: RigClient) -> None:
    line = client.raw(b"\xff\xfe\x00\x80junk\x1b[0m\n", timeout=1.0)
    assert line is None or b"ERR" in line
    assert client.slot_count() >= 1


def test_a_bad_tag_gets_an_untagged_err_100(client: RigClient) -> None:
    answer = _raw(client, b"@bad_tag! PROTO?\n")
    assert answer.startswith("ERR 100"), answer


@pytest.mark.parametrize(
    ("request_line", "code"),
    [
        (b"@b1 PRESS x\n", 101),
        (b"@b2 DISP?\n", 101),
        (b"@b3 WATCH? 1 -5\n", 101),
        (b"@b4 PRESS 1 0 extra\n", 101),
        (b"@b5 PRESS +1\n", 101),
        (b"@b6 SEED 1 0 313\n", 101),
        (b"@b7 TCLK 1 -1\n", 101),
    ],
)
def test_bad_arguments_are_err_101(client: RigClient, request_line: bytes, code: int) -> None:
    tag = request_line.split()[0].decode()
    assert _raw(client, request_line).startswith(f"{tag} ERR {code}")


# -- display, button, power -----------------------------------------------------------------


def test_display_answer_is_timestamp_and_code_or_off(client: RigClient, slot: int) -> None:
    ms1, shown = _display(client, slot)
    ms2, _ = _display(client, slot)
    assert CODE.fullmatch(shown), shown
    assert ms2 >= ms1 >= 0


def test_rig_time_never_goes_back(client: RigClient) -> None:
    stamps = [int(client.call("TIME?")[0]) for _ in range(3)]
    assert stamps == sorted(stamps)


def test_press_is_acknowledged(client: RigClient, slot: int) -> None:
    assert client.call("PRESS", slot, slot=slot) == ()


def test_watch_answers_with_change_or_timeout(client: RigClient, slot: int) -> None:
    before, _ = _display(client, slot)
    ms, shown, outcome = client.call("WATCH?", slot, 200, slot=slot, timeout=3.0)[:3]
    assert outcome in {"CHANGED", "TIMEOUT"}
    assert int(ms) >= before
    assert CODE.fullmatch(shown), shown


def test_watch_sees_the_next_code_across_a_step_boundary(client: RigClient, slot: int) -> None:
    _programming(client, slot, utc=STEP_BOUNDARY - 2)
    client.call("SEED", slot, 0, RFC_SEED_HEX, slot=slot)
    client.call("PRESS", slot, slot=slot)
    ms, shown, outcome = client.call("WATCH?", slot, 5000, slot=slot, timeout=8.0)[:3]
    assert (outcome, shown) == ("CHANGED", totp(RFC_SEED, STEP_BOUNDARY)), (ms, shown, outcome)


def test_token_clock_sync_reads_back_and_reports_the_seed_as_the_model_does(
    client: RigClient, slot: int
) -> None:
    _programming(client, slot)
    client.call("SEED", slot, 0, RFC_SEED_HEX, slot=slot)
    target = 1_500_000_000
    state = client.call("TCLK", slot, target, slot=slot)[0]
    spec = model(client.slot_info(slot).model)
    assert state == ("ERASED" if spec.restricted_sync else "KEPT")
    assert client.call("SEED?", slot, 0, slot=slot) == (("0",) if spec.restricted_sync else ("1",))
    if not spec.clock_readable:
        with pytest.raises(RigUnsupported) as info:
            client.call("TCLK?", slot, slot=slot)
        assert info.value.code == 301
        return
    utc = int(client.call("TCLK?", slot, slot=slot)[0])
    assert target <= utc <= target + 5  # what TCLK wrote, a few seconds on at most


def test_display_turns_off_after_the_display_timeout(client: RigClient, slot: int) -> None:
    """Takes ~15 s: the shortest display timeout the protocol offers."""
    spec = model(client.slot_info(slot).model)
    if 15 not in spec.display_timeouts:
        pytest.skip(f"{spec.name} cannot be set to a 15 s display timeout")
    # A step boundary 1 s after utc would change the code before the display goes off.
    _programming(client, slot, utc=STEP_BOUNDARY + 1, timeout=15)
    client.call("SEED", slot, 0, RFC_SEED_HEX, slot=slot)
    client.call("PRESS", slot, slot=slot)
    lit_at, shown = _display(client, slot)
    assert shown == totp(RFC_SEED, STEP_BOUNDARY + 1)
    ms, shown, outcome = client.call("WATCH?", slot, 20000, slot=slot, timeout=23.0)[:3]
    assert (shown, outcome) == ("OFF", "CHANGED"), (ms, shown, outcome)
    assert int(ms) - lit_at >= 13_000, "the display went off well before its 15 s timeout"


def test_no_answer_ever_contains_the_seed(client: RigClient, slot: int) -> None:
    _programming(client, slot)
    seed_hex = RFC_SEED_HEX.upper()
    answers = [
        _raw(client, f"@s1 SEED {slot} 0 {seed_hex}\n".encode()),
        _raw(client, f"@s2 SEED? {slot} 0\n".encode()),
        _raw(client, f"@s3 SEED {slot} 0 {seed_hex}0\n".encode()),  # odd length: ERR 101
        _raw(client, f"@s4 SEED {slot} 0 {'AB' * 64}\n".encode()),  # too long: ERR 3xx
        _raw(client, f"@s5 SEED {slot} 0 {seed_hex} extra\n".encode()),  # ERR 101
    ]
    assert answers[0] == "@s1 OK"
    assert answers[1] == "@s2 OK 1"
    assert answers[2].startswith("@s3 ERR 101")
    assert answers[4].startswith("@s5 ERR 101")
    for answer in answers:
        assert seed_hex not in answer.upper(), answer
        assert "AB" * 16 not in answer.upper(), answer


def test_power_cycle_turns_the_display_off(client: RigClient, slot: int) -> None:
    client.call("PRESS", slot, slot=slot)
    refused: RigUnsupported | None = None
    try:
        client.call("POWER", slot, slot=slot)
    except RigUnsupported as exc:
        refused = exc
    if refused is not None:
        assert refused.code == 400, "a slot without a switchable supply is ERR 400 (§4)"
        pytest.skip(f"the rig cannot switch this slot's supply ({refused})")
    assert _display(client, slot)[1] == "OFF"


def test_apdu_pass_through_answers_a_response_apdu_or_err_400(client: RigClient, slot: int) -> None:
    refused: RigUnsupported | None = None
    answer = b""
    try:
        answer = client.apdu(slot, bytes.fromhex("00A4040000"))
    except RigUnsupported as exc:
        refused = exc
    if refused is not None:
        assert refused.code == 400
    else:
        assert len(answer) >= 2  # at least SW1 SW2


# -- programming (rigs that burn tokens) ------------------------------------------------------


def test_config_write_reports_seed_state_as_the_model_does(client: RigClient, slot: int) -> None:
    state = _programming(client, slot)
    restricted = model(client.slot_info(slot).model).restricted_sync
    assert state == ("ERASED" if restricted else "KEPT")


def test_programmed_token_shows_the_rfc6238_code(client: RigClient, slot: int) -> None:
    _programming(client, slot, utc=31)  # RFC 6238 step 1 for the next 29 s
    client.call("SEED", slot, 0, RFC_SEED_HEX, slot=slot)
    assert client.call("SEED?", slot, 0, slot=slot) == ("1",)
    assert client.call("CONF?", slot, 0, slot=slot)[:3] == ("SHA1", "30", "6")
    client.call("PRESS", slot, slot=slot)
    assert _display(client, slot)[1] == "287082"


def test_token_clock_reads_back_what_was_written(client: RigClient, slot: int) -> None:
    _programming(client, slot, utc=1_000_000_000)
    refused: RigUnsupported | None = None
    utc = 0
    try:
        utc = int(client.call("TCLK?", slot, slot=slot)[0])
    except RigUnsupported as exc:
        refused = exc
    if refused is not None:
        assert refused.code == 301  # the model cannot report its clock
    else:
        assert 1_000_000_000 <= utc <= 1_000_000_010


def test_seed_delete_leaves_no_seed(client: RigClient, slot: int) -> None:
    _programming(client, slot)
    client.call("SEED", slot, 0, RFC_SEED_HEX, slot=slot)
    client.call("SEED:DEL", slot, 0, slot=slot)
    assert client.call("SEED?", slot, 0, slot=slot) == ("0",)


def test_seed_of_64_bytes_is_refused_by_the_token(client: RigClient, slot: int) -> None:
    _programming(client, slot)
    with pytest.raises(RigCommandError) as info:
        client.call("SEED", slot, 0, "00" * 64, slot=slot)
    assert 300 <= info.value.code < 400
