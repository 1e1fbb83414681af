"""RFC 6238 Appendix B, as the device is held to it: the published seeds and 8-digit codes,
and reading them off a token at a given digit count.

The codes are the RFC's own strings, not recomputed by our core, so a bug shared by the core
and a token cannot make both agree.
"""

from __future__ import annotations

from tokenrig.harness.otp.hotp import Algorithm, hotp, step_start, time_step
from tokenrig.harness.qualify import observe
from tokenrig.harness.qualify.context import ProcedureContext
from tokenrig.harness.secrets import Secret

_U32_MAX = 2**32 - 1

# (time, 8-digit code); a 6-digit token shows the last six digits.
RFC6238_SEEDS = {
    Algorithm.SHA1: b"12345678901234567890",
    Algorithm.SHA256: b"12345678901234567890123456789012",
}
RFC6238_VECTORS: dict[Algorithm, tuple[tuple[int, str], ...]] = {
    Algorithm.SHA1: (
        (59, "94287082"),
        (1111111109, "07081804"),
        (1111111111, "14050471"),
        (1234567890, "89005924"),
        (2000000000, "69279037"),
        (20000000000, "65353130"),
    ),
    Algorithm.SHA256: (
        (59, "46119246"),
        (1111111109, "68084774"),
        (1111111111, "67062674"),
        (1234567890, "91819424"),
        (2000000000, "90698825"),
        (20000000000, "77737706"),
    ),
}


def vector_code(algorithm: Algorithm, vector_time: int, code8: str, digits: int) -> str:
    """The code the vector's step shows at ``digits``: the RFC's own string, cut to length, up
    to 8 digits (the device is held to the published text); computed at 10."""
    if digits <= 8:
        return code8[-digits:]
    seed = RFC6238_SEEDS[algorithm]
    return hotp(seed, time_step(vector_time), digits=digits, algorithm=algorithm)


def wrong_vectors(ctx: ProcedureContext, digits: int) -> list[tuple[str, str]]:
    """``(which vector, defect)`` for each vector the token shows wrongly at ``digits``, its
    clock set to the start of the vector's step (a whole step of margin to read it)."""
    wrong = []
    for algorithm, vectors in RFC6238_VECTORS.items():
        if algorithm not in ctx.token.spec.algorithms:
            continue
        secret = Secret(RFC6238_SEEDS[algorithm], kind="seed")
        for vector_time, code8 in vectors:
            if vector_time > _U32_MAX:
                continue  # a 32-bit clock cannot be set there; roll-overs cover the far future
            sync = observe.burn(
                ctx,
                secret,
                algorithm=algorithm,
                digits=digits,
                clock_time=step_start(time_step(vector_time)),
            )
            reading = observe.read_code(ctx)
            if reading.code != vector_code(algorithm, vector_time, code8, digits):
                defect = observe.check_reading(ctx, sync, reading) or "wrong code"
                wrong.append((f"{algorithm.value} T={vector_time}", defect))
    return wrong
