"""The rig protocol's answer grammar and physics, checked before any value is used.

A rig that answers ``DISP?`` with ``ABCDEF``, 500 digits, a 40-digit timestamp or a timestamp
that runs backwards is a broken rig, not a token with a wrong code. Every answer value passes
through one of these checks first; a violation is a :class:`RigAnswerError`, an
infrastructure error (the verdict is inconclusive), whose message quotes the offending answer
with long hex runs hidden. Field sizes are checked on the text, so a huge number never reaches
``int()`` or float maths (docs/rig-protocol.md §2.4).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from tokenrig.harness.scrub import scrub_text
from tokenrig.harness.tokens.base import InfrastructureError

MS_MAX_DIGITS = 16  # the rig's millisecond counter: 2**53 ms (285,000 years) fits in 16 digits
MS_MAX = 2**53  # above this a float (host seconds) no longer holds the millisecond
UTC_MAX = 2**32 - 1  # token clocks are 32-bit unsigned Unix seconds
CODE_MAX_POSITIONS = 10  # the widest display of any model the protocol names
QUOTE_LIMIT = 120  # characters of an offending answer quoted in the error

_CODE = re.compile(r"^[0-9?]+$")
_DECIMAL = re.compile(r"^[0-9]+$")


class RigAnswerError(InfrastructureError):
    """A rig's answer breaks the protocol's grammar or physics: a rig fault, never a token's.

    ``quote`` is the offending answer as it may be printed (bounded, hex runs hidden).
    """

    def __init__(self, message: str, quote: str) -> None:
        super().__init__(message)
        self.quote = quote


def quote_answer(values: Sequence[str]) -> str:
    """The answer's values as safe, bounded text for an error message or a finding."""
    text = " ".join(values)
    text = "".join(c if " " <= c <= "~" else "?" for c in text)
    text = scrub_text(text)
    if len(text) > QUOTE_LIMIT:
        return f"{text[:QUOTE_LIMIT]}... ({len(' '.join(values))} chars)"
    return text


def violation(where: str, command: str, values: Sequence[str], problem: str) -> RigAnswerError:
    """The error for an answer that breaks the protocol, quoting it."""
    quote = quote_answer(values)
    return RigAnswerError(
        f"{where}: rig protocol violation: {command} answer {quote!r}: {problem} "
        "(a rig fault, not a token defect)",
        quote,
    )


def expect_count(
    where: str, command: str, values: Sequence[str], count: int, *, extra_allowed: bool = False
) -> None:
    """Exactly ``count`` values (more only when the rig speaks a newer minor version, §9)."""
    if len(values) < count:
        raise violation(where, command, values, f"{count} value(s) expected, got {len(values)}")
    if len(values) > count and not extra_allowed:
        raise violation(
            where, command, values, f"{len(values) - count} unknown extra value(s) from a 1.0 rig"
        )


def decimal(
    where: str, command: str, values: Sequence[str], index: int, *, max_digits: int, maximum: int
) -> int:
    """Value ``index`` as a bounded decimal integer; the size is checked before ``int()``."""
    word = values[index]
    if not _DECIMAL.match(word):
        raise violation(where, command, values, f"value {index + 1} is not a decimal number")
    if len(word) > max_digits:
        raise violation(
            where, command, values, f"value {index + 1} has {len(word)} digits (max {max_digits})"
        )
    number = int(word)
    if number > maximum:
        raise violation(where, command, values, f"value {index + 1} exceeds {maximum}")
    return number


def rig_ms(where: str, command: str, values: Sequence[str], index: int = 0) -> int:
    """A rig timestamp: decimal milliseconds, at most 16 digits and 2**53."""
    return decimal(where, command, values, index, max_digits=MS_MAX_DIGITS, maximum=MS_MAX)


def code(
    where: str, command: str, values: Sequence[str], index: int, *, positions: int
) -> str | None:
    """A display code: ``OFF`` (None), or 1..``positions`` characters of ``0``-``9`` and ``?``.

    More than the display has cannot be a real reading. Fewer are accepted here only in the
    shape a display that blanks leading zeros gives (no leading ``0`` unless the whole code is
    ``0``): that is a token behaviour the harness tests. Whether a short reading really is the
    expected code without its zeros (or the last six digits of a longer one) is known only
    against the expected code, so :func:`unexplained_short_code` is raised there
    (``observe.check_reading``) when it is not: a rig that drops positions is not a token with
    a wrong code.
    """
    word = values[index]
    if word == "OFF":
        return None
    if len(word) > positions:
        raise violation(
            where,
            command,
            values,
            f"code has {len(word)} positions, the display shows at most {positions}",
        )
    if not _CODE.match(word):
        raise violation(where, command, values, "code is not OFF nor digits and '?'")
    if len(word) < positions and len(word) > 1 and word.startswith("0"):
        raise violation(
            where,
            command,
            values,
            f"code has {len(word)} of {positions} positions yet starts with 0 (a display that "
            "blanks leading zeros shows none)",
        )
    return word


def unexplained_short_code(where: str, shown: str, digits: int) -> RigAnswerError:
    """A reading with fewer positions than the ``digits`` burned that is neither the expected
    code with its leading zeros blanked nor its last six digits: it cannot be read as a code of
    that length, so it is the rig's (a position it failed to send), not a wrong code of the
    token's."""
    return violation(
        where,
        "display",
        [shown],
        f"{len(shown)} positions for a {digits}-digit code, and not the expected code with its "
        "leading zeros blanked nor its last 6 digits",
    )


def one_of(where: str, command: str, values: Sequence[str], index: int, allowed: set[str]) -> str:
    word = values[index]
    if word not in allowed:
        expected = " or ".join(sorted(allowed))
        raise violation(where, command, values, f"value {index + 1} is not {expected}")
    return word


class MonotonicStamps:
    """The rig's millisecond counter never runs backwards on one link (§4, §8.6).

    One per rig connection, shared by all its slots: the counter is the rig's, not a slot's.
    """

    def __init__(self) -> None:
        self._last: int | None = None

    def check(self, where: str, command: str, values: Sequence[str], stamp: int) -> None:
        if self._last is not None and stamp < self._last:
            raise violation(
                where,
                command,
                values,
                f"rig timestamp ran backwards ({stamp} ms after {self._last} ms)",
            )
        self._last = stamp
