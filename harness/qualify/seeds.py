"""The ``--seeds`` file as qualification uses it: the seed each token is left provisioned with.

The file format and its checks belong to :mod:`harness.tokens.seedfile` (``slot,secret,...``
or ``serial,secret,...``, base32 secrets, errors naming file, line and column, never a secret);
this adapter only turns its entries into per-token :class:`SlotSeed`\\ s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harness.qualify.context import SlotSeed
from harness.tokens.seedfile import SeedFileError, load_seed_file

__all__ = ["SeedBook", "SeedFileError", "load_seed_book"]

QUALIFICATION_DIGITS = 6


@dataclass(frozen=True)
class SeedBook:
    by_slot: dict[int, SlotSeed] = field(default_factory=dict)
    by_serial: dict[str, SlotSeed] = field(default_factory=dict)

    def for_token(self, slot: int, serial: str) -> SlotSeed | None:
        return self.by_serial.get(serial) or self.by_slot.get(slot)


def load_seed_book(path: str | Path) -> SeedBook:
    seed_file = load_seed_file(path)
    book = SeedBook()
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
