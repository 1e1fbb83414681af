"""Checks that only mean something on real hardware (marker ``hil``).

Without ``--rig`` pointing at a real rig these are skipped, with the reason in the report.
"""

from __future__ import annotations

import pytest

from tokenrig.harness.tokens.rig_token import RigToken


@pytest.mark.hil
def test_every_token_wakes_and_shows_a_code_of_its_digit_count(token: RigToken) -> None:
    token.press()
    reading = token.read_display()
    assert reading.code is not None, f"{token}: display stayed off after a press"
    assert len(reading.code) in token.spec.digits
    assert reading.code.isdigit()


@pytest.mark.hil
def test_display_changes_at_a_step_boundary_while_shown(token: RigToken) -> None:
    token.press()
    first = token.read_display()
    changed = token.watch_display(timeout=31.0)
    assert changed.extra["watch"] == "changed"
    assert changed.code != first.code
