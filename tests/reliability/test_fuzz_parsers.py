"""Every parser that reads outside input gives a result or its documented error, never a crash.

Inputs come from hypothesis: rig protocol lines in both directions (the rig parsing requests,
the host parsing answers, including what the typed helpers make of an answer's values), the
Token2 APDU layer (status words, TLVs, the info response, and the simulated card answering any
command), rig files and seed files. "Documented error" means the exception class each module
names for bad input; anything else escaping is a defect.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokenrig.harness.clock import VirtualClock
from tokenrig.harness.rigs.config import RigFileError, load_rig_file, parse_rig
from tokenrig.harness.sim.apdu_card import card_for
from tokenrig.harness.sim.factory import make_sim_firmware
from tokenrig.harness.sim.rig_server import SimRig
from tokenrig.harness.tokens.base import InfrastructureError, TokenError, TokenIdentity
from tokenrig.harness.tokens.rig_token import RigToken
from tokenrig.harness.tokens.seedfile import SeedFileError, load_seed_file
from tokenrig.harness.transports import rig_protocol
from tokenrig.harness.transports.rig_client import RigClient
from tokenrig.harness.transports.token2 import codec, tlv
from tokenrig.harness.transports.token2.apdu import Response as ApduResponse
from tokenrig.harness.transports.token2.status import ApduStatusError, check

START = 1_700_000_000.0
COMMANDS = sorted(
    [
        "*IDN?",
        "PROTO?",
        "SLOTS?",
        "SLOT?",
        "PRESS",
        "DISP?",
        "POWER",
        "TIME?",
        "TCLK?",
        "TCLK",
        "CONF",
        "CONF?",
        "SEED",
        "SEED?",
        "SEED:DEL",
        "APDU",
        "WATCH?",
        "NOPE",
    ]
)
WORDS = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.sampled_from(["SHA1", "sha256", "SHA512", "0", "1", "2", "3", "30", "60", "nan", "1e5"]),
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=12),
    st.binary(max_size=40).map(bytes.hex),
)
FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
T = TypeVar("T")


def attempt(
    call: Callable[[], T], errors: type[Exception] | tuple[type[Exception], ...]
) -> T | Exception:
    """The result of ``call``, or the documented error it raised; anything else propagates."""
    try:
        return call()
    except errors as exc:
        return exc


# -- rig protocol: the rig's side ---------------------------------------------------------------


@pytest.fixture(scope="module")
def sim_rig() -> SimRig:
    clock = VirtualClock(start=START)
    slots = [
        make_sim_firmware("C302", clock=clock),
        make_sim_firmware("Molto2", clock=clock, index=2),
        None,
    ]
    return SimRig(slots, clock=clock, apdu_factory=card_for)


@FUZZ
@given(raw=st.binary(max_size=2 * rig_protocol.MAX_LINE))
def test_parse_request_gives_a_request_or_protocol_error(raw: bytes) -> None:
    request = attempt(lambda: rig_protocol.parse_request(raw), rig_protocol.ProtocolError)
    if isinstance(request, Exception):
        assert str(request)
    else:
        assert request.command == request.command.upper()


@FUZZ
@given(raw=st.binary(max_size=2 * rig_protocol.MAX_LINE))
def test_parse_response_gives_a_response_or_protocol_error(raw: bytes) -> None:
    response = attempt(lambda: rig_protocol.parse_response(raw), rig_protocol.ProtocolError)
    if isinstance(response, Exception):
        assert str(response)
    else:
        assert response.ok or response.code is not None


@FUZZ
@given(
    tag=st.none() | st.text("0123456789abcdefXYZ", min_size=1, max_size=8),
    command=st.sampled_from(COMMANDS),
    args=st.lists(WORDS, max_size=8),
)
def test_the_rig_answers_any_request_with_one_ok_or_err_line(
    sim_rig: SimRig, tag: str | None, command: str, args: list[str]
) -> None:
    if command == "WATCH?":
        args = [*args[:1], "0"]  # a watch on the (frozen) virtual clock must not wait
    line = " ".join(([f"@{tag}"] if tag else []) + [command, *args]).encode()
    answer = sim_rig.handle_line(line)
    assert answer is not None
    assert answer.endswith(b"\n")
    assert len(answer) <= rig_protocol.MAX_LINE
    parsed = rig_protocol.parse_response(answer)
    if len(line) <= rig_protocol.MAX_LINE:
        assert parsed.tag == tag


@FUZZ
@given(raw=st.binary(max_size=3000))
def test_the_rig_answers_garbage_huge_and_non_ascii_lines(sim_rig: SimRig, raw: bytes) -> None:
    line = raw.split(b"\n", 1)[0]
    answer = sim_rig.handle_line(line)
    if not line.strip(b"\r\n\t "):
        assert answer is None
        return
    assert answer is not None
    parsed = rig_protocol.parse_response(answer)
    if len(line) > rig_protocol.MAX_LINE:
        assert parsed.code == rig_protocol.ErrorCode.LINE_TOO_LONG


# -- rig protocol: the host's side ----------------------------------------------------------------


class ScriptedPort:
    """A serial port whose rig answers every request with ``answer`` under the request's tag.

    Below the level under test (the client's parsing), so a plain object stands in for the tty.
    """

    def __init__(self, answer: bytes) -> None:
        self.answer = answer
        self._out = bytearray()

    def write(self, data: bytes) -> int:
        request = rig_protocol.parse_request(data.strip(b"\n"))
        self._out += f"@{request.tag} ".encode() + self.answer + b"\n"
        return len(data)

    def flush(self) -> None:
        pass

    def reset_input_buffer(self) -> None:
        pass

    @property
    def in_waiting(self) -> int:
        return len(self._out)

    def read(self, size: int = 1) -> bytes:
        chunk = bytes(self._out[:size])
        del self._out[:size]
        return chunk

    def close(self) -> None:
        pass


def _client(answer: bytes) -> RigClient:
    client = RigClient("scripted://", name="fuzz-rig", timeout=0.02, retries=0)
    client._port = ScriptedPort(answer)  # type: ignore[assignment]
    return client


ANSWER_WORDS = st.one_of(
    WORDS, st.sampled_from(["OFF", "PRESENT", "EMPTY", "KEPT", "ERASED", "CHANGED", "C302"])
)


@FUZZ
@given(
    status=st.sampled_from(["OK", "ERR", "ERR 301", "ERR 500", "OK OK", "ERR x"]),
    values=st.lists(ANSWER_WORDS, max_size=5),
)
def test_the_host_reads_any_answer_as_values_or_a_typed_error(
    status: str, values: list[str]
) -> None:
    """Whatever a rig answers to each command, the typed helpers return or raise TokenError
    (a refusal) / InfrastructureError (a malformed answer), both naming the rig."""
    answer = " ".join([status, *values]).encode()
    client = _client(answer)
    token = RigToken(
        client, 1, identity=TokenIdentity("2201000001", "C302", "1.0"), spec=_spec("C302")
    )

    def watch() -> object:
        return token.watch_display(0.01)

    calls = [
        client.identify,
        client.protocol_version,
        client.slot_count,
        lambda: client.slot_info(1),
        client.rig_time,
        lambda: client.apdu(1, bytes(5)),
        token.read_display,
        watch,
        token.read_clock,
        lambda: token.set_clock(1_700_000_000),
    ]
    try:
        rig_protocol.parse_response(answer)
    except rig_protocol.ProtocolError:
        calls.remove(watch)  # an unreadable answer is waited out: 2 s more for a watch
    for call in calls:
        outcome = attempt(call, (TokenError, InfrastructureError))
        if isinstance(outcome, Exception):
            assert "fuzz-rig" in str(outcome)


def _spec(name: str) -> Any:
    from tokenrig.harness.tokens.models import model

    return model(name)


def test_a_rig_answering_without_values_is_an_infrastructure_error_not_an_index_error() -> None:
    """Found by the fuzz above: ``PROTO?``/``SLOTS?``/``TCLK?`` answered with a bare ``OK``
    raised IndexError; a malformed ``SLOT?`` answer named the slot but not the rig."""
    client = _client(b"OK")
    with pytest.raises(InfrastructureError, match="fuzz-rig"):
        client.protocol_version()
    with pytest.raises(InfrastructureError, match=r"fuzz-rig.*SLOTS"):
        client.slot_count()
    violation = r"rig fuzz-rig slot 4: rig protocol violation: SLOT\?"
    with pytest.raises(InfrastructureError, match=violation):
        client.slot_info(4)
    token = RigToken(
        _client(b"OK nan"), 2, identity=TokenIdentity("1", "C302", "1.0"), spec=_spec("C302")
    )
    with pytest.raises(InfrastructureError, match="fuzz-rig slot 2"):
        token.read_clock()


# -- Token2 APDU layer ----------------------------------------------------------------------------


@FUZZ
@given(data=st.binary(max_size=80))
def test_apdu_response_parsers_give_a_value_or_their_error(data: bytes) -> None:
    for parse, errors in (
        (tlv.parse, (tlv.TlvError,)),
        (codec.parse_config_tlv, (tlv.TlvError, codec.CodecError)),
        (codec.parse_info, (codec.CodecError,)),
        (ApduResponse.parse, (ValueError,)),
    ):
        outcome = attempt(lambda: parse(data), errors)  # noqa: B023 - called at once
        if isinstance(outcome, Exception):
            assert str(outcome)


@FUZZ
@given(sw=st.integers(0, 0xFFFF), data=st.binary(max_size=8))
def test_every_status_word_is_9000_or_a_status_error_naming_command_and_reader(
    sw: int, data: bytes
) -> None:
    response = ApduResponse(data, sw)
    outcome = attempt(lambda: check(response, "seed write", "reader R1"), ApduStatusError)
    if isinstance(outcome, Exception):
        assert "seed write" in str(outcome)
        assert "reader R1" in str(outcome)
        assert f"{sw:04X}" in str(outcome)
    else:
        assert outcome is response
        assert sw == 0x9000


@pytest.fixture(scope="module")
def cards() -> list[Any]:
    clock = VirtualClock(start=START)
    return [card_for(make_sim_firmware(m, clock=clock)) for m in ("C302", "Molto2")]


@FUZZ
@given(
    header=st.tuples(
        st.sampled_from([0x00, 0x80, 0x84]),
        st.integers(0, 255),
        st.integers(0, 255),
        st.integers(0, 255),
    ),
    body=st.binary(max_size=64),
    framed=st.booleans(),
)
def test_the_simulated_card_answers_any_command_with_a_status_word(
    cards: list[Any], header: tuple[int, int, int, int], body: bytes, framed: bool
) -> None:
    apdu = bytes(header) + ((bytes((len(body),)) + body if body else b"") if framed else body)
    for card in cards:
        answer = card.transmit(apdu)
        assert len(answer) >= 2


# -- rig files ------------------------------------------------------------------------------------

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**80), 2**80),
    st.floats(),
    st.text(max_size=10),
    st.sampled_from(["sim", "sim:tcp", "/dev/ttyACM0", "C302", "Molto2", "0x349E", "zz"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["slot", "model", "vid", "pid", "x"]), inner, max_size=3)
    ),
    max_leaves=8,
)
SLOT_TABLES = st.dictionaries(
    st.sampled_from(["slot", "model", "serial", "firmware", "drift_ppm", "faults", "bogus"]),
    SCALARS | st.lists(st.sampled_from(["rounded_counter", "no_such_fault"]), max_size=2),
    max_size=7,
)


@FUZZ
@given(
    top=st.dictionaries(
        st.sampled_from(["name", "url", "usb", "timeout", "apdu", "description", "bogus"]),
        VALUES,
        max_size=6,
    ),
    slots=st.lists(SLOT_TABLES, max_size=3),
)
def test_rig_file_content_gives_a_config_or_an_error_naming_file_and_key(
    top: dict[str, Any], slots: list[dict[str, Any]]
) -> None:
    data = {k: v for k, v in {"name": "r", **top, "slots": slots}.items() if v is not None}
    config = attempt(lambda: parse_rig(data, source="bench.toml"), RigFileError)
    if isinstance(config, RigFileError):
        assert str(config).startswith("bench.toml: ")
        assert config.key
    else:
        assert not isinstance(config, Exception)
        assert math.isfinite(config.timeout)
        assert config.timeout > 0


@FUZZ
@given(raw=st.binary(max_size=200))
def test_rig_file_bytes_give_a_config_or_an_error_naming_the_file(
    tmp_path_factory: pytest.TempPathFactory, raw: bytes
) -> None:
    path = tmp_path_factory.mktemp("rig") / "rig.toml"
    path.write_bytes(raw)
    outcome = attempt(lambda: load_rig_file(path), RigFileError)
    if isinstance(outcome, Exception):
        assert str(path) in str(outcome)


@pytest.mark.parametrize("value", ["nan", "inf", "+inf", "1" + "0" * 30])
def test_a_timeout_that_would_make_waits_unbounded_is_refused(tmp_path: Path, value: str) -> None:
    """Found by the fuzz above: ``timeout = nan`` was accepted, and a deadline of nan seconds
    never passes; a 31-digit integer crashed with OverflowError."""
    path = tmp_path / "rig.toml"
    path.write_text(f'name = "r"\nurl = "/dev/ttyACM0"\ntimeout = {value}\n')
    assert "timeout" in tomllib.loads(path.read_text())
    with pytest.raises(RigFileError, match=r"rig\.toml: timeout: "):
        load_rig_file(path)


# -- seed files -----------------------------------------------------------------------------------

CELLS = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["1", "0", "-3", "JBSWY3DPEHPK3PXP", "SHA256", "sha1", "30", "60", "8"]),
)
HEADER_CELLS = st.sampled_from(["slot", "serial", "secret", "algorithm", "period", "digits", ""])


@FUZZ
@given(
    header=st.lists(HEADER_CELLS, min_size=1, max_size=6),
    rows=st.lists(st.lists(CELLS, max_size=7), max_size=5),
    separator=st.sampled_from([",", ";", "\t"]),
)
def test_seed_file_content_gives_seeds_or_an_error_naming_file_line_column(
    tmp_path_factory: pytest.TempPathFactory,
    header: list[str],
    rows: list[list[str]],
    separator: str,
) -> None:
    path = tmp_path_factory.mktemp("seeds") / "seeds.csv"
    path.write_bytes("\n".join(separator.join(r) for r in [header, *rows]).encode(errors="replace"))
    path.chmod(0o600)
    seeds = attempt(lambda: load_seed_file(path), SeedFileError)
    if isinstance(seeds, Exception):
        assert str(seeds).startswith(str(path))
    else:
        assert seeds.entries


@FUZZ
@given(raw=st.binary(max_size=300))
def test_seed_file_bytes_give_seeds_or_an_error_naming_the_file(
    tmp_path_factory: pytest.TempPathFactory, raw: bytes
) -> None:
    path = tmp_path_factory.mktemp("seeds") / "seeds.csv"
    path.write_bytes(raw)
    path.chmod(0o600)
    outcome = attempt(lambda: load_seed_file(path), SeedFileError)
    if isinstance(outcome, Exception):
        assert str(outcome).startswith(str(path))


def test_a_cell_over_the_csv_field_limit_is_a_seed_file_error_naming_the_line(
    tmp_path: Path,
) -> None:
    """Found by the fuzz above: a 200 kB cell raised ``_csv.Error`` out of the loader."""
    path = tmp_path / "seeds.csv"
    path.write_text("slot,secret\n1,JBSWY3DPEHPK3PXP\n2," + "A" * 200_000 + "\n")
    path.chmod(0o600)
    with pytest.raises(SeedFileError, match=r"seeds\.csv:3: not readable as CSV") as caught:
        load_seed_file(path)
    assert "AAAA" not in str(caught.value)
