"""Opening a ``--rig`` and picking a ``--slot`` the same way in every command.

A rig that cannot be opened (a bad file, a link that does not answer, a lock another process
holds) and a slot the rig does not have are the user's setup, not a verdict: every command
turns them into one line naming the ``--rig`` or ``--slot`` and exit status 2, never a
traceback and never the "a token failed" status 1.
"""

from __future__ import annotations

from pathlib import Path

from tokenrig.harness.cli.main import UsageError
from tokenrig.harness.clock import SYSTEM_CLOCK, Clock
from tokenrig.harness.rigs.kind import OpenRig
from tokenrig.harness.rigs.rig import open_rig
from tokenrig.harness.tokens.base import Token, TokenError

# RigBusy is a RuntimeError, a refused or vanished link an InfrastructureError (a TokenError),
# a bad rig file a RigFileError (a ValueError), a missing device an OSError.
RIG_OPEN_ERRORS: tuple[type[Exception], ...] = (OSError, ValueError, RuntimeError, TokenError)


def open_cli_rig(
    target: str, *, clock: Clock = SYSTEM_CLOCK, log_dir: Path | None = None
) -> OpenRig:
    """Open (and lock) the rig ``--rig target`` names, or raise :class:`UsageError`."""
    try:
        return open_rig(target, clock=clock, log_dir=log_dir)
    except RIG_OPEN_ERRORS as exc:
        raise UsageError(f"--rig {target}: {exc}") from None


def slot_token(rig: OpenRig, slot: int) -> Token:
    """The token in ``slot``, or :class:`UsageError` for a slot that is absent or empty."""
    try:
        return rig.token(slot)
    except TokenError as exc:
        raise UsageError(f"--slot {slot}: {exc}") from None
