"""What a rig kind is: the one small interface every way of reaching tokens implements.

A *kind* turns a validated :class:`RigConfig` into an open rig: something with slots, a
:class:`Token` per slot, and a ``close`` that undoes everything opening did (servers started,
locks and labgrid places held). The serial-protocol rig, the simulated rig and a labgrid place
are kinds; so is anything else a lab can build (a camera rig). Commands and fixtures never
ask which kind they hold: they open through :mod:`tokenrig.harness.rigs.kinds` and drive the
result through :class:`OpenRig`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from tokenrig.harness.clock import SYSTEM_CLOCK, Clock
from tokenrig.harness.rigs.config import RigConfig
from tokenrig.harness.tokens.base import Token
from tokenrig.harness.transports.rig_client import SlotInfo


@dataclass(frozen=True)
class OpenOptions:
    """How the caller wants a rig opened (the same for every kind; a kind may ignore some)."""

    clock: Clock = SYSTEM_CLOCK
    log_dir: Path | None = None  # where the kind writes its wire log, if it has one
    lock: bool = True  # take the rig for exclusive use (file lock, labgrid place...)
    lock_dir: Path | None = None
    lock_wait: float = 0.0  # seconds to wait for a rig someone else holds


@runtime_checkable
class OpenRig(Protocol):
    """An open rig of any kind. ``close`` is idempotent and undoes everything ``open`` did."""

    @property
    def name(self) -> str: ...

    @property
    def url(self) -> str: ...

    def slots(self) -> list[SlotInfo]: ...

    def token(self, slot: int) -> Token: ...

    def tokens(self) -> Sequence[Token]: ...

    def mismatches(self) -> list[str]:
        """Where the rig file expects another model or serial than the slot holds."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> OpenRig: ...

    def __exit__(self, *exc: object) -> None: ...


class RigKind(Protocol):
    """One way of reaching tokens; registered once in :mod:`tokenrig.harness.rigs.kinds`."""

    name: str
    # Top-level rig-file tables this kind owns (e.g. ``labgrid`` for ``[labgrid]``); they are
    # kept, unparsed, in ``RigConfig.options`` for :meth:`check` and :meth:`open`.
    sections: frozenset[str]
    # Whether slot entries may carry simulation-only keys (drift_ppm, faults...).
    simulated: bool

    def ad_hoc(self, target: str) -> RigConfig | None:
        """The rig a ``--rig TARGET`` that is not a file means, if this kind claims it."""
        ...

    def check(self, config: RigConfig, raw: Mapping[str, Any]) -> None:
        """Refuse a rig file this kind cannot open (raise ``RigFileError`` naming the key)."""
        ...

    def open(self, config: RigConfig, options: OpenOptions) -> OpenRig:
        """Connect (starting, locking or acquiring as needed); the caller closes the result."""
        ...
