"""A healthy Molto2 under the vendor profile: every digit count it supports is measured and clean.

The fault tests show that each 32-bit mistake is caught; this file shows the other half of the
evidence for the digit-count procedure, that a healthy multi-digit token passes with a
measurement at 4, 6, 8 and 10 digits (not a pass because some count was never tried), and that
the batch-acceptance profile, which does not select the procedure, measures no digit counts.
"""

from __future__ import annotations

import pytest

from tests.qualify_unit.helpers import qualify_token, sim_token
from tokenrig.harness.qualify.profile import load_profile
from tokenrig.harness.tokens.models import MODELS


@pytest.mark.parametrize("offset", [-4.0, 0.0, 3.5])
def test_healthy_molto2_passes_at_every_digit_count(offset: float) -> None:
    token, clock = sim_token("Molto2", drift_ppm=1.0, rtc_offset=offset)
    record = qualify_token(token, clock, load_profile("vendor"))
    assert record.verdict == "pass", [f.defect for f in record.findings]
    assert MODELS["Molto2"].digits == (4, 6, 8, 10)
    for digits in (4, 6, 8, 10):
        mismatches = record.measurement(f"digits.code_mismatches[{digits}]")
        assert mismatches is not None, f"{digits} digits were never measured"
        assert mismatches.value == 0


def test_qa_profile_does_not_measure_digit_counts() -> None:
    token, clock = sim_token("Molto2", drift_ppm=1.0, rtc_offset=0.0)
    record = qualify_token(token, clock, load_profile("qa"))
    assert record.verdict == "pass", [f.defect for f in record.findings]
    assert record.measurement("digits.code_mismatches[6]") is None
