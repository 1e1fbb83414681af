"""The ``--seeds`` file as qualification uses it: the seed each token is left provisioned with.

The file format and its checks belong to :mod:`tokenrig.harness.tokens.seedfile`
(``slot,secret,...``
or ``serial,secret,...``, base32 secrets, errors naming file, line and column, never a secret);
this adapter only turns its entries into per-token :class:`SlotSeed`\\ s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tokenrig.harness.qualify.context import SlotSeed
from tokenrig.harness.tokens.models import UnsupportedConfig, model
from tokenrig.harness.tokens.seedfile import SeedEntry, SeedFileError, load_seed_file

__all__ = ["SeedBook", "SeedFileError", "SeedTarget", "check_seed_book", "load_seed_book"]

QUALIFICATION_DIGITS = 6


@dataclass(frozen=True)
class SeedBook:
    by_slot: dict[int, SlotSeed] = field(default_factory=dict)
    by_serial: dict[str, SlotSeed] = field(default_factory=dict)
    path: Path | None = None
    entries: tuple[SeedEntry, ...] = ()

    def for_token(self, slot: int, serial: str) -> SlotSeed | None:
        return self.by_serial.get(serial) or self.by_slot.get(slot)


def load_seed_book(path: str | Path) -> SeedBook:
    seed_file = load_seed_file(path)
    book = SeedBook(path=seed_file.path, entries=seed_file.entries)
    for entry in seed_file.entries:
        if entry.digits != QUALIFICATION_DIGITS:
            raise SeedFileError(
                seed_file.path,
                entry.line,
                "digits",
                f"qualification reads {QUALIFICATION_DIGITS}-digit codes, not {entry.digits}",
            )
        seed = SlotSeed(entry.secret, algorithm=entry.algorithm, period=entry.period)
        if entry.slot is not None:
            book.by_slot[entry.slot] = seed
        elif entry.serial is not None:
            book.by_serial[entry.serial] = seed
    return book


@dataclass(frozen=True)
class SeedTarget:
    """A token a seed row may be meant for: its rig, slot, serial and model."""

    rig: str
    slot: int
    serial: str
    model: str


def check_seed_book(book: SeedBook, targets: Sequence[SeedTarget]) -> None:
    """Refuse, before anything runs, every row that would be ignored or could not be burned.

    A row for a slot or serial no rig has would silently leave that token with a fresh seed;
    a row the token's model cannot honour would fail only at the final provisioning, after
    the whole qualification. With several rigs a slot number names one token per rig, so
    two tokens would get the same seed: such a file must be keyed by serial.
    """
    if book.path is None:
        return
    rigs = sorted({t.rig for t in targets})
    by_slot: dict[int, SeedTarget] = {}
    for candidate in targets:
        by_slot.setdefault(candidate.slot, candidate)
    by_serial = {t.serial: t for t in targets}
    for entry in book.entries:
        target: SeedTarget | None
        if entry.slot is not None:
            if len(rigs) > 1:
                raise SeedFileError(
                    book.path,
                    entry.line,
                    "slot",
                    f"slot {entry.slot} names a token on each of {len(rigs)} rigs "
                    f"({', '.join(rigs)}): two tokens would get the same seed; key the "
                    "file by serial instead",
                )
            target = by_slot.get(entry.slot)
            if target is None:
                known = sorted(by_slot)
                raise SeedFileError(
                    book.path,
                    entry.line,
                    "slot",
                    f"slot {entry.slot}: rig {', '.join(rigs) or '?'} has no token there "
                    f"(slots: {_ranges(known)})",
                )
        else:
            target = by_serial.get(entry.serial or "")
            if target is None:
                raise SeedFileError(
                    book.path,
                    entry.line,
                    "serial",
                    f"serial {entry.serial}: no token with this serial on rig "
                    f"{', '.join(rigs) or '?'}",
                )
        try:
            model(target.model).check_burn(
                secret_len=len(entry.secret),
                algorithm=entry.algorithm,
                period=entry.period,
                digits=entry.digits,
            )
        except UnsupportedConfig as exc:
            raise SeedFileError(
                book.path,
                entry.line,
                exc.field,
                f"{entry.target} (rig {target.rig}, {exc.model}): {exc.reason}",
            ) from None


def _ranges(slots: Sequence[int]) -> str:
    return f"{slots[0]}..{slots[-1]}" if slots else "none"
