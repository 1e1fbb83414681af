"""Judging value ± uncertainty: inside passes, wholly outside fails, straddling cannot tell."""

from __future__ import annotations

import math

import pytest

from tokenrig.harness.qualify.measurement import Limits, Outcome
from tokenrig.harness.qualify.uncertainty import doubtful, judge

LIMITS = Limits(low=-1.5, high=1.5, marginal=0.5)


@pytest.mark.parametrize(
    ("value", "spread", "expected"),
    [
        (0.0, 0.01, Outcome.PASS),
        (1.2, 0.1, Outcome.MARGINAL),  # inside, within the marginal band
        (-1.701, 0.85, None),  # the slow-CONF case: could be a healthy token
        (1.2, 0.4, None),  # inside by less than its uncertainty: no clean pass
        (-3.0, 0.85, Outcome.FAIL),  # outside by more than its uncertainty
        (1.6, 0.0, Outcome.FAIL),  # exact values judged as before
        (math.nan, 0.0, None),  # a NaN is a failure to measure, not a defect
        (0.0, math.nan, None),
    ],
)
def test_value_with_uncertainty(value: float, spread: float, expected: Outcome | None) -> None:
    assert judge(LIMITS, value, spread) is expected
    assert doubtful(LIMITS, value, spread) is (expected is None)


def test_one_sided_limit() -> None:
    limits = Limits(low=14)
    assert judge(limits, 20, 5) is Outcome.PASS
    assert judge(limits, 12, 5) is None
    assert judge(limits, 5, 5) is Outcome.FAIL
