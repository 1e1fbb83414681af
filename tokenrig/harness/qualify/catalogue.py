"""Every measurement a procedure can take: its unit, what it means, and default limits.

The catalogue is the vocabulary profiles are written in: a profile may change the limits of a
definition named here and nothing else, so a typo in a profile is caught (with the file and
key) instead of silently leaving a measurement unjudged.
"""

from __future__ import annotations

from dataclasses import dataclass

from tokenrig.harness.qualify.measurement import Limits


@dataclass(frozen=True)
class Definition:
    name: str
    unit: str
    description: str
    limits: Limits


def _d(name: str, unit: str, description: str, **limits: float) -> Definition:
    return Definition(name, unit, description, Limits(**limits))


DEFINITIONS: dict[str, Definition] = {
    d.name: d
    for d in (
        _d(
            "burn.code_mismatches",
            "codes",
            "codes read right after a burn that differ from RFC 6238 for the burned seed",
            low=0,
            high=0,
        ),
        _d(
            "display.leading_zero_mismatches",
            "codes",
            "codes with a leading zero shown wrongly (clock set to a step whose code begins 0)",
            low=0,
            high=0,
        ),
        _d(
            "rfc6238.vector_mismatches",
            "codes",
            "RFC 6238 Appendix B vectors the token got wrong with its clock set to the vector time",
            low=0,
            high=0,
        ),
        _d(
            "digits.code_mismatches",
            "codes",
            "codes wrong at one digit count (after a burn, RFC vectors, a leading 0, a boundary)",
            low=0,
            high=0,
        ),
        _d(
            "step_boundary.stale_reads",
            "reads",
            "reads after a step boundary, display kept on, that still showed the previous code",
            low=0,
            high=0,
        ),
        _d(
            "clock.offset_after_sync",
            "s",
            "token clock minus host clock right after a sync, from the moment the display changes",
            low=-1.5,
            high=1.5,
            marginal=0.5,
        ),
        _d(
            "clock.offset_resolution",
            "s",
            "half-width of the interval in which the display change was bracketed",
            high=0.05,
        ),
        _d(
            "clock.read_offset_after_sync",
            "s",
            "token clock read over NFC minus host clock right after a sync (1 s resolution)",
            low=-2,
            high=2,
        ),
        _d(
            "clock.nfc_offset_after_sync",
            "s",
            "token clock from the Token2 info APDU (rig pass-through) minus where the sync put "
            "it, right after a sync (whole-second clock: see clock.nfc_offset_resolution)",
            low=-2,
            high=2,
        ),
        _d(
            "clock.nfc_offset_resolution",
            "s",
            "half-width of the NFC clock reading: half a second plus half the APDU round trip",
        ),
        _d("drift.ppm", "ppm", "clock rate error, least squares over the soak", low=-30, high=30),
        _d(
            "drift.ppm_uncertainty",
            "ppm",
            "one standard deviation of the drift estimate",
            high=2,
        ),
        _d(
            "window.days_in_window",
            "days",
            "predicted days from sync until the token leaves the target verifier's window",
            low=14,
        ),
        _d(
            "seed_length.mismatches",
            "lengths",
            "supported seed lengths whose codes were wrong after a burn",
            low=0,
            high=0,
        ),
        _d(
            "seed_length.oversize_accepted",
            "burns",
            "burns of a seed longer than the model's maximum that were not refused",
            low=0,
            high=0,
        ),
        _d(
            "restricted_sync.mismatches",
            "checks",
            "clock writes whose effect on the stored seed differs from the model's sync rule",
            low=0,
            high=0,
        ),
        _d(
            "power_cycle.code_mismatches",
            "codes",
            "codes after a power cycle that differ from the burned seed's",
            low=0,
            high=0,
        ),
        _d(
            "rollover.code_mismatches",
            "codes",
            "codes wrong just after a roll-over date with the clock set just before it",
            low=0,
            high=0,
        ),
    )
}


def definition(name: str) -> Definition:
    """The definition of a measurement name (qualifier ``[...]`` ignored)."""
    base = name.split("[", 1)[0]
    try:
        return DEFINITIONS[base]
    except KeyError:
        raise KeyError(f"no measurement definition {base!r}") from None
