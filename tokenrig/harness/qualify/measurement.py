"""Measurements in the OpenHTF sense: a named value with a unit, limits and an outcome.

A verdict is only as useful as the numbers behind it. Every procedure reports what it saw as
measurements judged against the profile's limits, so a QA engineer can see *how close* a token
came to failing (the marginal band), not just that it passed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    """How a measurement compares with its limits."""

    PASS = "pass"  # noqa: S105 (an outcome, not a password)
    MARGINAL = "marginal"  # inside the limits but within the marginal band of one of them
    FAIL = "fail"


@dataclass(frozen=True)
class Limits:
    """Inclusive low/high limits (either may be open) and a marginal band inside them.

    A value within ``marginal`` of a limit still passes but is flagged, the way OpenHTF's
    marginal limits warn that a token is near the edge before it falls off it.
    """

    low: float | None = None
    high: float | None = None
    marginal: float = 0.0

    def judge(self, value: float) -> Outcome:
        if math.isnan(value):
            return Outcome.FAIL
        if self.low is not None and value < self.low:
            return Outcome.FAIL
        if self.high is not None and value > self.high:
            return Outcome.FAIL
        if self.marginal > 0 and (
            (self.low is not None and value < self.low + self.marginal)
            or (self.high is not None and value > self.high - self.marginal)
        ):
            return Outcome.MARGINAL
        return Outcome.PASS

    def describe(self, unit: str) -> str:
        """Human text such as ``-30..30 ppm`` or ``>= 14 days``."""
        if self.low is not None and self.high is not None:
            if self.low == self.high:
                return f"= {_fmt(self.low)} {unit}".rstrip()
            return f"{_fmt(self.low)}..{_fmt(self.high)} {unit}".rstrip()
        if self.low is not None:
            return f">= {_fmt(self.low)} {unit}".rstrip()
        if self.high is not None:
            return f"<= {_fmt(self.high)} {unit}".rstrip()
        return "no limit"


def _fmt(value: float) -> str:
    return f"{value:g}"


@dataclass(frozen=True)
class Measurement:
    """One judged value. ``name`` is ``<definition>[<qualifier>]`` when a procedure measures
    the same thing several times (e.g. ``burn.code_mismatches[SHA256/60s]``)."""

    name: str
    value: float
    unit: str
    low: float | None
    high: float | None
    marginal: float
    outcome: Outcome
    procedure: str = ""
    # ± the value's uncertainty, for time measurements: the round trips of the exchanges
    # behind it (clock write, display reads). None where the value is a count.
    uncertainty: float | None = None

    @property
    def definition(self) -> str:
        """The catalogue name, without the qualifier."""
        return self.name.split("[", 1)[0]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "low": self.low,
            "high": self.high,
            "marginal": self.marginal,
            "outcome": self.outcome.value,
            "procedure": self.procedure,
            "uncertainty": self.uncertainty,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Measurement:
        return cls(
            name=str(data["name"]),
            value=float(data["value"]),
            unit=str(data["unit"]),
            low=None if data.get("low") is None else float(data["low"]),
            high=None if data.get("high") is None else float(data["high"]),
            marginal=float(data.get("marginal", 0.0)),
            outcome=Outcome(data["outcome"]),
            procedure=str(data.get("procedure", "")),
            uncertainty=None if data.get("uncertainty") is None else float(data["uncertainty"]),
        )
