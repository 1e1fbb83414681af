"""Token qualification: every procedure of the profile, once per token in the rig.

This is the suite ``tokenrig qualify`` runs. Each test is one procedure on one token (ids are
serials); procedures the profile does not run are deselected (the header names the profile
and what it runs). The verdict of a token is in its record (records.json, report.html),
built from the measurements these tests take.
"""

from __future__ import annotations

import pytest

from tokenrig.fixtures.qualification import Qualification

pytestmark = pytest.mark.qualification


def test_burn(qualification: Qualification) -> None:
    qualification.run("burn")


def test_leading_zero(qualification: Qualification) -> None:
    qualification.run("leading_zero")


def test_rfc6238(qualification: Qualification) -> None:
    qualification.run("rfc6238")


def test_step_boundary(qualification: Qualification) -> None:
    qualification.run("step_boundary")


def test_digit_counts(qualification: Qualification) -> None:
    qualification.run("digit_counts")


def test_clock_offset(qualification: Qualification) -> None:
    qualification.run("clock_offset")


def test_drift(qualification: Qualification) -> None:
    qualification.run("drift")


def test_seed_lengths(qualification: Qualification) -> None:
    qualification.run("seed_lengths")


def test_restricted_sync(qualification: Qualification) -> None:
    qualification.run("restricted_sync")


def test_power_cycle(qualification: Qualification) -> None:
    qualification.run("power_cycle")


def test_rollover_2038(qualification: Qualification) -> None:
    qualification.run("rollover_2038")


def test_rollover_2106(qualification: Qualification) -> None:
    qualification.run("rollover_2106")


def test_provisioned(qualification: Qualification) -> None:
    """Last: the token is left burned with its slot's seed and a synced clock."""
    qualification.provision()
