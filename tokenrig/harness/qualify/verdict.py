"""The one place a verdict is derived: per token from its record, per batch from the tokens.

A verdict is evidence, so ``pass`` is never a default. A token passes only when every
procedure selected for it (the profile's, then ``provision``) ran to completion and every
measurement behind it is a finite value inside its limits. Otherwise, in this order:

- ``fail``: a token defect proven by a measurement (a finding, or a value outside its limits);
- ``inconclusive``: the harness could not measure (rig or link error, timing too coarse, a
  harness exception of any type, a value that is not a number), with the reason;
- ``incomplete``: the run ended before the token's procedures did.

The CLI summary and exit status, records.json, tokens.csv, JUnit, allure and report.html all
call :func:`token_verdict` and :func:`batch_verdict`; nothing else decides pass or fail.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tokenrig.harness.tokens.base import InfrastructureError, TokenError

if TYPE_CHECKING:
    from tokenrig.harness.qualify.context import ProcedureContext
    from tokenrig.harness.qualify.record import BatchRecord, TokenRecord

PASS = "pass"  # noqa: S105 (a verdict, not a password)
FAIL = "fail"
INCONCLUSIVE = "inconclusive"
INCOMPLETE = "incomplete"
VERDICTS = (PASS, FAIL, INCONCLUSIVE, INCOMPLETE)

# What a procedure's entry in ``TokenRecord.procedures`` may say once it has ended.
PASSED, FAILED, UNJUDGED, ERROR, INTERRUPTED, SKIPPED = (
    "passed",
    "failed",
    "inconclusive",
    "error",
    "interrupted",
    "skipped",
)

# Run statuses in records.json: written ``running`` first, finalised last.
RUNNING, COMPLETE, RUN_INTERRUPTED, CRASHED = "running", "complete", "interrupted", "crashed"
RUN_STATUSES = (RUNNING, COMPLETE, RUN_INTERRUPTED, CRASHED)

PROVISION = "provision"


@dataclass(frozen=True)
class Verdict:
    verdict: str
    reasons: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return self.verdict == PASS


def selected_procedures(profile_procedures: Iterable[str]) -> list[str]:
    """What a token must complete to pass: the profile's procedures, then provisioning."""
    return [*profile_procedures, PROVISION]


def token_verdict(record: TokenRecord, *, so_far: bool = False) -> Verdict:
    """The verdict of one token. ``so_far``: judge only what has run (live progress), so a
    token still being qualified is not shown as incomplete."""
    defects = [f.defect for f in record.findings]
    unjudged: list[str] = [*record.errors, *record.inconclusive]
    for m in record.measurements:
        if not math.isfinite(m.value):
            unjudged.append(f"{m.name}: measured value is not a number ({m.value})")
        elif m.outcome.value == FAIL:
            low = "" if m.low is None else f"{m.low:g}"
            high = "" if m.high is None else f"{m.high:g}"
            limits = f"{low}..{high}"
            defects.append(f"{m.name} = {m.value:g} {m.unit} outside {limits}")
    for name, status in record.procedures.items():
        if status == FAILED and not any(f.procedure == name for f in record.findings):
            if not any(
                m.procedure == name and m.outcome.value == FAIL for m in record.measurements
            ):
                defects.append(f"{name}: failed")
        elif status in (ERROR, UNJUDGED) and not any(n.startswith(f"{name}: ") for n in unjudged):
            unjudged.append(f"{name}: {status}")
    if defects:
        return Verdict(FAIL, tuple(dict.fromkeys(defects)))
    if unjudged:
        return Verdict(INCONCLUSIVE, tuple(dict.fromkeys(unjudged)))
    if so_far:
        return Verdict(PASS)
    if not record.selected:
        return Verdict(INCOMPLETE, ("no procedures were selected for this token",))
    missing = [p for p in record.selected if record.procedures.get(p) != PASSED]
    if missing:
        return Verdict(INCOMPLETE, (f"not completed: {', '.join(missing)}",))
    return Verdict(PASS)


@dataclass(frozen=True)
class BatchVerdict:
    """The batch in one word (PASS, FAIL, INCONCLUSIVE, INCOMPLETE), its counts and status."""

    word: str
    run_status: str
    counts: dict[str, int]

    @property
    def passed(self) -> bool:
        return self.word == "PASS"

    @property
    def exit_status(self) -> int:
        """0 every token passed in a complete run, else 1 (signals are the caller's)."""
        return 0 if self.passed else 1


def batch_verdict(batch: BatchRecord) -> BatchVerdict:
    verdicts = [t.verdict for t in batch.tokens]
    counts = {
        "tokens": len(verdicts),
        "passed": verdicts.count(PASS),
        "failed": verdicts.count(FAIL),
        "inconclusive": verdicts.count(INCONCLUSIVE),
        "incomplete": verdicts.count(INCOMPLETE),
        "marginal": sum(bool(t.marginal) and t.verdict == PASS for t in batch.tokens),
    }
    status = str(batch.run.get("status", "unknown"))
    if status != COMPLETE or not verdicts:
        word = "INCOMPLETE"
    elif counts["failed"]:
        word = "FAIL"
    elif counts["incomplete"]:
        word = "INCOMPLETE"
    elif counts["inconclusive"]:
        word = "INCONCLUSIVE"
    else:
        word = "PASS"
    return BatchVerdict(word, status, counts)


def summary_line(batch: BatchRecord) -> str:
    """The one line the CLI prints, and report.html heads with (without markup)."""
    v = batch_verdict(batch)
    c = v.counts
    line = (
        f"{v.word}: {c['tokens']} tokens, {c['passed']} passed, {c['failed']} failed, "
        f"{c['marginal']} marginal, {c['inconclusive']} inconclusive, "
        f"{c['incomplete']} incomplete"
    )
    if v.run_status != COMPLETE:
        reason = batch.run.get("interrupted_by") or batch.run.get("crash") or ""
        line += f" (run {v.run_status}{': ' + str(reason) if reason else ''})"
    return line


def procedure_status(record: TokenRecord, procedure: str) -> str:
    """How one procedure ended, from what it recorded."""
    failed = any(
        m.procedure == procedure and m.outcome.value == FAIL and math.isfinite(m.value)
        for m in record.measurements
    )
    if failed or any(f.procedure == procedure for f in record.findings):
        return FAILED
    nan = any(m.procedure == procedure and not math.isfinite(m.value) for m in record.measurements)
    if nan or any(n.startswith(f"{procedure}: ") for n in record.inconclusive):
        return UNJUDGED
    return PASSED


def run_procedure(
    ctx: ProcedureContext, procedure: str, function: Callable[[ProcedureContext], None]
) -> str:
    """Run one procedure and record how it ended. Any exception is the harness's (or the
    rig's) failure to measure, never a token defect: it is recorded as the reason the token
    is inconclusive and re-raised for the caller to report. An interrupt (KeyboardInterrupt,
    SystemExit) marks the procedure interrupted, so the token is incomplete, not passed."""
    ctx.procedure = procedure
    record = ctx.record
    record.procedures[procedure] = "running"
    try:
        function(ctx)
    except Exception as exc:
        record.procedures[procedure] = ERROR
        record.errors.append(f"{procedure}: {describe_error(exc)}")
        raise
    except BaseException:
        record.procedures[procedure] = INTERRUPTED
        raise
    status = procedure_status(record, procedure)
    record.procedures[procedure] = status
    return status


def describe_error(exc: BaseException) -> str:
    """An exception as a reason: the message of the harness's own errors, the type too for
    anything else (an unexpected exception is a harness bug and should say which)."""
    if isinstance(exc, InfrastructureError | TokenError):
        return str(exc)
    from tokenrig.harness.tokens.models import UnsupportedConfig

    if isinstance(exc, UnsupportedConfig):
        return str(exc)
    return f"harness error {type(exc).__name__}: {exc}"


def not_completed(record: TokenRecord) -> Sequence[str]:
    """The selected procedures a token has not passed (for reports of interrupted runs)."""
    return [p for p in record.selected if record.procedures.get(p) != PASSED]
