"""The rig-answer checks one by one: what a 1.0 rig may answer passes, everything else is a
:class:`RigAnswerError` (an infrastructure error, never a token's) naming the command and
quoting the answer bounded, before any number of it reaches ``int()``.

The whole path (a lying rig in front of ``tokenrig qualify``) is
``tests/reliability/test_lying_rig.py``; these pin each rule of docs/rig-protocol.md §9.
"""

from __future__ import annotations

import pytest

from tokenrig.harness.otp.hotp import Algorithm, hotp, time_step
from tokenrig.harness.qualify.diagnose import Burned, expected_codes, short_display
from tokenrig.harness.tokens import rig_answers
from tokenrig.harness.tokens.base import InfrastructureError
from tokenrig.harness.tokens.rig_answers import RigAnswerError

W = "rig bench slot 3"


def _code(word: str, positions: int = 6) -> str | None:
    return rig_answers.code(W, "DISP?", ("123", word), 1, positions=positions)


@pytest.mark.parametrize("word", ["123456", "??????", "12?456", "23456", "0", "6", "?2345"])
def test_codes_a_display_can_show_are_accepted(word: str) -> None:
    assert _code(word) == word


def test_off_is_no_code() -> None:
    assert _code("OFF") is None


@pytest.mark.parametrize(
    ("word", "problem"),
    [
        ("ABCDEF", "not OFF nor digits and '?'"),
        ("-12345", "not OFF nor digits and '?'"),
        ("12 34", "not OFF nor digits and '?'"),
        ("off", "not OFF nor digits and '?'"),
        ("1234567", "code has 7 positions, the display shows at most 6"),
        ("7" * 500, "code has 500 positions, the display shows at most 6"),
        ("01234", "code has 5 of 6 positions yet starts with 0"),
        ("", "not OFF nor digits and '?'"),
    ],
)
def test_codes_no_display_shows_are_rig_errors(word: str, problem: str) -> None:
    with pytest.raises(RigAnswerError) as caught:
        _code(word)
    assert isinstance(caught.value, InfrastructureError)  # inconclusive, not a token defect
    message = str(caught.value)
    assert message.startswith(f"{W}: rig protocol violation: DISP? answer ")
    assert problem in message
    assert "not a token defect" in message
    assert len(caught.value.quote) <= rig_answers.QUOTE_LIMIT + 30  # 500 digits: bounded


def test_the_positions_follow_the_configured_digits() -> None:
    assert _code("12345678", positions=8) == "12345678"
    with pytest.raises(RigAnswerError):
        _code("12345678", positions=6)


@pytest.mark.parametrize("word", ["0", "5120000", "1" + "0" * 15, str(2**53)])
def test_rig_stamps_in_range(word: str) -> None:
    assert rig_answers.rig_ms(W, "DISP?", (word, "123456")) == int(word)


@pytest.mark.parametrize(
    ("word", "problem"),
    [
        ("9" * 40, "value 1 has 40 digits (max 16)"),
        ("9" * 400, "value 1 has 400 digits (max 16)"),  # never reaches int()
        (str(2**53 + 1), "value 1 exceeds"),
        ("-5", "value 1 is not a decimal number"),
        ("ms=5", "value 1 is not a decimal number"),
        ("5.0", "value 1 is not a decimal number"),
        ("0x10", "value 1 is not a decimal number"),
        ("١٢٣", "value 1 is not a decimal number"),  # digits str.isdigit() accepts
    ],
)
def test_rig_stamps_out_of_the_grammar(word: str, problem: str) -> None:
    with pytest.raises(RigAnswerError, match="rig protocol violation") as caught:
        rig_answers.rig_ms(W, "DISP?", (word, "123456"))
    assert problem in str(caught.value)


def test_a_stamp_that_runs_backwards_is_refused_and_not_kept() -> None:
    stamps = rig_answers.MonotonicStamps()
    stamps.check(W, "DISP?", ("1000", "1"), 1000)
    stamps.check(W, "DISP?", ("1000", "1"), 1000)  # the same millisecond twice is fine
    with pytest.raises(RigAnswerError, match=r"ran backwards \(999 ms after 1000 ms\)"):
        stamps.check(W, "DISP?", ("999", "1"), 999)
    stamps.check(W, "DISP?", ("1001", "1"), 1001)  # judged against the last good stamp


@pytest.mark.parametrize(
    ("values", "extra", "problem"),
    [
        (("5120000",), False, "2 value(s) expected, got 1"),
        ((), False, "2 value(s) expected, got 0"),
        (("5120000", "123456", "7"), False, "1 unknown extra value(s) from a 1.0 rig"),
    ],
)
def test_value_counts(values: tuple[str, ...], extra: bool, problem: str) -> None:
    with pytest.raises(RigAnswerError) as caught:
        rig_answers.expect_count(W, "DISP?", values, 2, extra_allowed=extra)
    assert problem in str(caught.value)


def test_a_newer_minor_may_add_values_at_the_end() -> None:
    rig_answers.expect_count(W, "DISP?", ("1", "123456", "7"), 2, extra_allowed=True)


def test_one_of_names_what_was_allowed() -> None:
    assert rig_answers.one_of(W, "CONF", ("KEPT",), 0, {"KEPT", "ERASED"}) == "KEPT"
    with pytest.raises(RigAnswerError, match="value 1 is not ERASED or KEPT"):
        rig_answers.one_of(W, "CONF", ("MAYBE",), 0, {"KEPT", "ERASED"})


def test_quotes_are_bounded_printable_and_hide_hex() -> None:
    quote = rig_answers.quote_answer(["1", "\x07\x1b[2J", "é"])
    assert quote.isascii()
    assert "\x07" not in quote
    assert "\x1b" not in quote
    seed = "3132333435363738393031323334353637383930"
    assert seed not in rig_answers.quote_answer(["ERR", seed])


def _burned(digits: int = 6) -> Burned:
    return Burned(b"12345678901234567890", Algorithm.SHA1, 30, digits)


def _at(t: float, digits: int = 6) -> tuple[str, set[str]]:
    b = _burned(digits)
    return hotp(b.key, time_step(t), digits=digits), expected_codes(b, t, t)


def test_a_short_reading_is_the_tokens_only_as_a_known_display_defect() -> None:
    # t chosen so the 6-digit code starts with 0 (and so has a blanked form)
    t = next(t for t in range(0, 300_000, 30) if _at(t)[0].startswith("0"))
    code, expected = _at(t)
    shown = code.lstrip("0")
    assert short_display(_burned(), shown, expected) == (
        f"display drops leading zeros (shows {len(shown)} of 6 digits)"
    )
    code8, expected8 = _at(t, digits=8)
    assert "last 6 digits" in str(short_display(_burned(8), code8[-6:], expected8))
    # The true code with a position cut off the end is no display's: no defect to name.
    t = next(t for t in range(0, 300_000, 30) if not _at(t)[0].startswith("0"))
    code, expected = _at(t)
    assert short_display(_burned(), code[:-1], expected) is None


def test_an_unexplained_short_code_blames_the_rig() -> None:
    error = rig_answers.unexplained_short_code(W, "12345", 6)
    assert isinstance(error, InfrastructureError)
    assert str(error).startswith(f"{W}: rig protocol violation: display answer '12345'")
    assert "5 positions for a 6-digit code" in str(error)
    assert "not a token defect" in str(error)
