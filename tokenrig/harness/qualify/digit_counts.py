"""The ``digit_counts`` procedure: every digit count a model can show, qualified on the device.

The other procedures burn the deployment's 6 digits. A Molto2 also shows 4, 8 and 10, and a
C core's 32-bit arithmetic breaks exactly there (the power of ten overflowing at 10 digits, a
leading zero lost only in the longer formats, a 6-digit display routine reused for 8). So for
each count the model supports this procedure checks the codes right after a burn, a code that
starts with 0, RFC 6238's Appendix B vectors (in full at 8 digits, which is how the RFC gives
them), and the display across a step boundary, then names the pattern when only some counts
go wrong.
"""

from __future__ import annotations

import secrets

from tokenrig.harness.otp.hotp import step_start
from tokenrig.harness.qualify import observe
from tokenrig.harness.qualify.context import ProcedureContext, Sync
from tokenrig.harness.qualify.rfc_vectors import wrong_vectors
from tokenrig.harness.secrets import Secret


def digit_counts(ctx: ProcedureContext) -> None:
    """Burn, leading zeros, RFC vectors and the step boundary at every supported digit count."""
    dropped_zero: list[int] = []
    for digits in ctx.token.spec.digits:
        wrong = _burn_and_read(ctx, digits)
        wrong += _rfc_vectors(ctx, digits)
        if _leading_zero(ctx, digits):
            wrong += 1
            dropped_zero.append(digits)
        wrong += _step_boundary(ctx, digits)
        ctx.measure(f"digits.code_mismatches[{digits}]", wrong)
    if dropped_zero:
        counts = "/".join(str(d) for d in dropped_zero)
        full = [d for d in ctx.token.spec.digits if d not in dropped_zero]
        shown = f" ({'/'.join(map(str, full))} digits shown in full)" if full else ""
        ctx.find(f"display drops leading zeros at {counts} digits{shown}")
    observe.burn_slot_seed(ctx)  # leave the token with the run's own seed


def _fresh() -> Secret:
    return Secret(secrets.token_bytes(20), kind="seed")


def _judge(ctx: ProcedureContext, sync: Sync, where: str) -> int:
    defect = observe.check_reading(ctx, sync, observe.read_code(ctx))
    if defect is None:
        return 0
    ctx.find(f"at {sync.burned.digits} digits, {where}: {defect}")
    return 1


def _burn_and_read(ctx: ProcedureContext, digits: int) -> int:
    sync = observe.burn(ctx, _fresh(), digits=digits)
    return _judge(ctx, sync, "right after a burn")


def _rfc_vectors(ctx: ProcedureContext, digits: int) -> int:
    wrong = wrong_vectors(ctx, digits)
    for where, defect in wrong:
        ctx.find(f"at {digits} digits, RFC 6238 vector {where}: {defect}")
    return len(wrong)


def _leading_zero(ctx: ProcedureContext, digits: int) -> bool:
    """True if a code starting with 0 is shown wrongly at ``digits``."""
    secret = _fresh()
    step = observe.step_with_leading_zero(ctx, secret, digits)
    sync = observe.burn(ctx, secret, digits=digits, clock_time=step_start(step))
    reading = observe.read_code(ctx)
    defect = observe.check_reading(ctx, sync, reading)
    if defect is not None and "drops leading zeros" not in defect:
        ctx.find(f"at {digits} digits, a code starting with 0: {defect}")
    return defect is not None


def _step_boundary(ctx: ProcedureContext, digits: int) -> int:
    """Display kept on across one boundary: the code must become the next step's."""
    sync = observe.burn(ctx, _fresh(), digits=digits, before_boundary=True)
    boundary_host, margin = observe.boundary_ahead(ctx, sync)
    ctx.clock.sleep(boundary_host - margin - ctx.clock.now())
    wrong = _judge(ctx, sync, "before a step boundary")
    ctx.clock.sleep(boundary_host + margin - ctx.clock.now())
    after = ctx.token.read_display()
    defect = observe.check_reading(ctx, sync, after, tolerance=min(margin / 2, 0.5))
    if defect is not None:
        ctx.find(f"at {digits} digits, after a step boundary: {defect}")
        wrong += 1
    return wrong
