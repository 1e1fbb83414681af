"""Named firmware defects the simulated token can be given, one set per token (per rig slot).

Each name is a bug that real TOTP token firmware has shipped or plausibly could ship. The
qualification suite must catch every one of them; the simulator reproduces them on purpose so
that "the suite catches it" is itself tested. The behaviour lives in
:mod:`tokenrig.harness.sim.firmware`; this module is the catalogue (what ``tokenrig sim faults``
prints).
"""

from __future__ import annotations

from collections.abc import Iterable

FAULTS: dict[str, str] = {
    "wrong_truncation_offset": "SHA-256 truncation offset taken from byte 19, not the last byte",
    "signed_32bit_time": "counter from signed 32-bit time, sign-extended: wrong after 2038-01-19",
    "signed_32bit_time_low32": (
        "counter from signed 32-bit time, low 32 bits only (bytes 0-3 zero): wrong after 2038"
    ),
    "signed_32bit_time_unsigned_wrap": (
        "signed 32-bit time wrapped to unsigned 64 bits before the division: wrong after 2038"
    ),
    "rounded_counter": "counter rounded, not floored: next code in each step's second half",
    "period_stuck_30": "codes always use a 30 s step, even when 60 s was burned",
    "sha1_instead_of_sha256": "HMAC-SHA1 used when SHA256 was burned",
    "seed_truncated_20": "only the first 20 bytes of a longer seed are stored",
    "seed_truncated_32": "only the first 32 bytes of a longer seed are stored",
    "drops_leading_zero": "display drops leading zeros (042137 shows as 42137)",
    "off_by_one_step": "display shows the code of the next step",
    "clock_not_set_by_sync": "config and time writes leave the clock unchanged",
    "seed_lost_on_power_cycle": "seeds are erased when the token is switched off and on",
    "drift_out_of_spec": "RTC runs 200 ppm fast (about 17 s a day)",
    "display_not_updating": "code shown at the press stays frozen across step boundaries",
    "block_seed_mispadded": "16/32/48-byte seeds keep the 0x80 pad byte as key material",
    "power_of_ten_u32": "10**digits kept in a 32-bit unsigned int: 10-digit codes wrong",
    "truncation_sign_bit": "truncated value not masked to 31 bits: negative codes",
    "drops_leading_zero_long": "display drops leading zeros at 8 and 10 digits only",
    "display_last_6_digits": "display shows only the last 6 digits of a longer code",
}

LONG_DISPLAY_FAULTS = frozenset(
    {"power_of_ten_u32", "drops_leading_zero_long", "display_last_6_digits"}
)
"""Faults that only show at more than 6 digits, so only on a model whose display has more."""

OUT_OF_SPEC_DRIFT_PPM = 200.0


class UnknownFault(ValueError):
    """A fault name that is not in :data:`FAULTS`; the message lists the known names."""


def check_faults(names: Iterable[str]) -> frozenset[str]:
    """The given fault names as a set, or :class:`UnknownFault` naming the first unknown one."""
    chosen = frozenset(names)
    for name in sorted(chosen):
        if name not in FAULTS:
            raise UnknownFault(f"unknown fault {name!r}; known faults: {', '.join(FAULTS)}")
    return chosen
