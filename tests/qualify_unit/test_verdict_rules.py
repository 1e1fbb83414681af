"""The verdict rules one by one: what makes a token pass, fail, inconclusive or incomplete,
and how a batch and its run status become one word (tokenrig.harness.qualify.verdict)."""

from __future__ import annotations

import math

import pytest

from tokenrig.harness.qualify.measurement import Measurement, Outcome
from tokenrig.harness.qualify.record import BatchRecord, Finding, TokenRecord
from tokenrig.harness.qualify.verdict import (
    FAIL,
    INCOMPLETE,
    INCONCLUSIVE,
    PASS,
    batch_verdict,
    procedure_status,
    run_procedure,
    summary_line,
    token_verdict,
)
from tokenrig.harness.tokens.base import InfrastructureError

SELECTED = ["burn", "drift", "provision"]


def _m(value: float, outcome: Outcome, procedure: str = "drift") -> Measurement:
    return Measurement("drift.ppm", value, "ppm", -30.0, 30.0, 10.0, outcome, procedure)


def _token(slot: int = 1, **procedures: str) -> TokenRecord:
    record = TokenRecord(serial=f"86596000000{slot:02d}", slot=slot, model="C302", rig="sim")
    record.selected = list(SELECTED)
    record.procedures = {name: "passed" for name in SELECTED} | procedures
    return record


def test_every_selected_procedure_passed_and_measured_inside_is_pass() -> None:
    token = _token()
    token.measurements = [_m(3.0, Outcome.PASS)]
    assert token_verdict(token).verdict == PASS


def test_a_marginal_measurement_still_passes() -> None:
    token = _token()
    token.measurements = [_m(25.0, Outcome.MARGINAL)]
    assert token_verdict(token).verdict == PASS
    assert token.marginal


def test_a_value_outside_its_limits_is_fail_naming_value_and_limits() -> None:
    token = _token(drift="failed")
    token.measurements = [_m(201.5, Outcome.FAIL)]
    verdict = token_verdict(token)
    assert verdict.verdict == FAIL
    assert verdict.reasons == ("drift.ppm = 201.5 ppm outside -30..30",)


def test_a_finding_is_fail_even_with_every_measurement_inside() -> None:
    token = _token(burn="failed")
    token.measurements = [_m(3.0, Outcome.PASS)]
    token.findings = [Finding("burn", "code uses SHA1 although SHA256 was burned")]
    assert token_verdict(token).verdict == FAIL


def test_a_failed_procedure_without_evidence_is_still_fail() -> None:
    assert token_verdict(_token(drift="failed")).reasons == ("drift: failed",)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_a_value_that_is_not_a_number_is_inconclusive_never_pass_or_fail(value: float) -> None:
    token = _token()
    token.measurements = [_m(value, Outcome.FAIL)]  # an outcome cannot make a nan a defect
    verdict = token_verdict(token)
    assert verdict.verdict == INCONCLUSIVE
    assert "not a number" in verdict.reasons[0]


def test_a_rig_error_is_inconclusive_not_a_defect() -> None:
    token = _token(drift="error")
    token.errors = ["drift: rig bench-1 slot 1: DISP? timed out after 2.0 s"]
    assert token_verdict(token).verdict == INCONCLUSIVE


def test_a_defect_outranks_a_rig_error_on_the_same_token() -> None:
    token = _token(burn="failed", drift="error")
    token.findings = [Finding("burn", "seed lost on power cycle")]
    token.errors = ["drift: rig timeout"]
    assert token_verdict(token).verdict == FAIL


@pytest.mark.parametrize("status", ["running", "interrupted", "skipped"])
def test_a_procedure_that_did_not_end_passed_leaves_the_token_incomplete(status: str) -> None:
    verdict = token_verdict(_token(drift=status))
    assert verdict.verdict == INCOMPLETE
    assert verdict.reasons == ("not completed: drift",)


def test_a_selected_procedure_never_started_is_incomplete() -> None:
    token = _token()
    del token.procedures["provision"]
    assert token_verdict(token).reasons == ("not completed: provision",)


def test_a_token_with_nothing_selected_is_incomplete_never_pass() -> None:
    token = TokenRecord(serial="x", slot=1, model="C302")
    assert token_verdict(token).verdict == INCOMPLETE


def test_so_far_judges_only_what_has_run() -> None:
    token = _token(drift="running")
    assert token_verdict(token, so_far=True).verdict == PASS
    assert token_verdict(token).verdict == INCOMPLETE


def test_procedure_status_follows_its_own_evidence_only() -> None:
    token = _token()
    token.measurements = [_m(201.0, Outcome.FAIL, "drift"), _m(math.nan, Outcome.PASS, "burn")]
    assert procedure_status(token, "drift") == "failed"
    assert procedure_status(token, "burn") == "inconclusive"
    assert procedure_status(token, "provision") == "passed"


def _batch(status: str, *tokens: TokenRecord) -> BatchRecord:
    return BatchRecord(run={"status": status}, tokens=list(tokens))


@pytest.mark.parametrize(
    ("status", "procedures", "word"),
    [
        ("complete", [{}, {}], "PASS"),
        ("complete", [{}, {"drift": "failed"}], "FAIL"),
        ("complete", [{"drift": "error"}, {}], "INCONCLUSIVE"),
        ("complete", [{"drift": "running"}, {}], "INCOMPLETE"),
        ("complete", [{"drift": "failed"}, {"drift": "running"}], "FAIL"),
        ("interrupted", [{}, {}], "INCOMPLETE"),  # even with every token done
        ("running", [{}, {}], "INCOMPLETE"),  # a SIGKILLed run
        ("crashed", [{}, {"drift": "failed"}], "INCOMPLETE"),
    ],
)
def test_the_batch_word(status: str, procedures: list[dict[str, str]], word: str) -> None:
    tokens = [_token(i + 1, **p) for i, p in enumerate(procedures)]
    assert batch_verdict(_batch(status, *tokens)).word == word
    assert batch_verdict(_batch(status, *tokens)).exit_status == (0 if word == "PASS" else 1)


def test_a_complete_run_with_no_tokens_is_not_a_pass() -> None:
    assert batch_verdict(_batch("complete")).word == "INCOMPLETE"


def test_the_summary_line_says_why_a_run_is_not_complete() -> None:
    batch = _batch("interrupted", _token(1), _token(2, drift="interrupted"))
    batch.run["interrupted_by"] = "SIGTERM"
    assert summary_line(batch) == (
        "INCOMPLETE: 2 tokens, 1 passed, 0 failed, 0 marginal, 0 inconclusive, 1 incomplete "
        "(run interrupted: SIGTERM)"
    )


class _Ctx:
    def __init__(self, record: TokenRecord) -> None:
        self.record = record
        self.procedure = ""


def test_run_procedure_records_any_exception_as_the_harness_s_not_the_token_s() -> None:
    record = _token()

    def broken(_ctx: object) -> None:
        raise OverflowError("int too large to convert to float")

    with pytest.raises(OverflowError):
        run_procedure(_Ctx(record), "drift", broken)  # type: ignore[arg-type]
    assert record.procedures["drift"] == "error"
    assert record.errors == [
        "drift: harness error OverflowError: int too large to convert to float"
    ]
    assert token_verdict(record).verdict == INCONCLUSIVE


def test_run_procedure_marks_an_interrupt_so_the_token_is_incomplete() -> None:
    record = _token()

    def stopped(_ctx: object) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_procedure(_Ctx(record), "drift", stopped)  # type: ignore[arg-type]
    assert record.procedures["drift"] == "interrupted"
    assert token_verdict(record).verdict == INCOMPLETE


def test_run_procedure_takes_a_rig_error_message_as_it_is() -> None:
    record = _token()

    def rig_down(_ctx: object) -> None:
        raise InfrastructureError("rig bench-1 slot 1: no answer to DISP? within 2.0 s")

    with pytest.raises(InfrastructureError):
        run_procedure(_Ctx(record), "drift", rig_down)  # type: ignore[arg-type]
    assert record.errors == ["drift: rig bench-1 slot 1: no answer to DISP? within 2.0 s"]
