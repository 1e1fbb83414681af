"""Seed files for batch burns: CSV with a header row, one token per line.

``slot,secret,algorithm,period`` (rig slots) or ``serial,secret,algorithm,period`` (tokens by
serial, on any reader or rig slot). ``secret`` is base32; ``algorithm`` (SHA1/SHA256/SHA512)
and ``period`` (seconds) may be left empty for SHA1 and 30, and a ``digits`` column is
accepted too. A QA engineer with a 200-line file needs the exact cell that is wrong, so every
error names the file, the line and the column; and because the file holds seeds, no error
ever quotes a secret cell, and a file other users can read draws a warning. The file is only
read, never copied anywhere.
"""

from __future__ import annotations

import csv
import io
import logging
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tokenrig.harness.otp.base32 import Base32Error, decode_base32
from tokenrig.harness.otp.hotp import Algorithm
from tokenrig.harness.secrets import Secret
from tokenrig.harness.tokens.base import BurnRequest

log = logging.getLogger("tokenrig.seeds")

KEY_COLUMNS = ("slot", "serial")
OPTIONAL_COLUMNS = ("algorithm", "period", "digits")


class SeedFileError(ValueError):
    """A seed file cannot be used; the message names file, line and column."""

    def __init__(self, path: Path, line: int | None, column: str | None, reason: str) -> None:
        where = str(path)
        if line is not None:
            where += f":{line}"
        if column is not None:
            where += f": column {column}"
        super().__init__(f"{where}: {reason}")
        self.path = path
        self.line = line
        self.column = column
        self.reason = reason


@dataclass(frozen=True)
class SeedEntry:
    """One row: which token (rig slot or serial), and what to burn into it."""

    line: int
    slot: int | None
    serial: str | None
    secret: Secret
    algorithm: Algorithm = Algorithm.SHA1
    period: int = 30
    digits: int = 6

    @property
    def target(self) -> str:
        return f"slot {self.slot}" if self.slot is not None else f"serial {self.serial}"

    def request(self, *, clock_time: int | None = None) -> BurnRequest:
        return BurnRequest(
            secret=self.secret,
            algorithm=self.algorithm,
            period=self.period,
            digits=self.digits,
            clock_time=clock_time,
        )


@dataclass(frozen=True)
class SeedFile:
    path: Path
    key: str  # "slot" or "serial"
    entries: tuple[SeedEntry, ...]
    warnings: tuple[str, ...] = ()


def world_readable(path: Path) -> bool:
    return bool(path.stat().st_mode & stat.S_IROTH)


MAX_SEED_FILE_BYTES = 16 * 1024 * 1024
"""A seed file is a few lines per token: 16 MiB is over 100,000 tokens."""


def _check_regular_file(path: Path) -> None:
    """Refuse what would hang or exhaust the reader (``/dev/zero``, a FIFO, a directory, a
    huge file) before opening it: ``stat`` never blocks, ``open`` on a FIFO does."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise SeedFileError(path, None, None, "no such file") from None
    except OSError as exc:
        raise SeedFileError(path, None, None, f"cannot read: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise SeedFileError(path, None, None, "not a regular file (a CSV file is expected)")
    if info.st_size > MAX_SEED_FILE_BYTES:
        raise SeedFileError(
            path, None, None, f"{info.st_size} bytes: larger than the 16 MiB a seed file may be"
        )


def load_seed_file(path: Path | str, *, log_warnings: bool = True) -> SeedFile:
    """Parse and check the whole file; raise :class:`SeedFileError` at the first bad cell.

    Warnings (a world-readable file) are returned, and logged unless ``log_warnings`` is
    False: a caller that prints them itself passes False so the user reads each one once.
    """
    path = Path(path)
    _check_regular_file(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SeedFileError(path, None, None, "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SeedFileError(path, None, None, f"cannot read: {exc}") from None
    warnings: list[str] = []
    if world_readable(path):
        warnings.append(f"{path}: readable by every user on this machine; chmod 600 it")
        if log_warnings:
            log.warning("%s", warnings[-1])
    rows = _read_rows(path, text)
    if not rows or not any(cell.strip() for cell in rows[0][1]):
        raise SeedFileError(path, 1, None, "empty file: expected a header row slot,secret,...")
    header = [cell.strip().lower() for cell in rows[0][1]]
    key = _check_header(path, header)
    entries: list[SeedEntry] = []
    seen: dict[str, int] = {}
    for number, row in rows[1:]:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise SeedFileError(
                path, number, None, f"{len(row)} cells, the header has {len(header)}"
            )
        entry = _entry(path, number, dict(zip(header, (c.strip() for c in row), strict=True)), key)
        target = entry.target
        if target in seen:
            raise SeedFileError(
                path, number, f"1 ({key})", f"{target} already on line {seen[target]}"
            )
        seen[target] = number
        entries.append(entry)
    if not entries:
        raise SeedFileError(path, None, None, "no seed rows after the header")
    return SeedFile(path, key, tuple(entries), tuple(warnings))


def _read_rows(path: Path, text: str) -> list[tuple[int, list[str]]]:
    """Each row with the line it starts on. Strict: a stray or unterminated quote is an
    error, not a cell silently glued to the lines after it."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[tuple[int, list[str]]] = []
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return rows
        except csv.Error as exc:  # a stray quote, or a cell over the module's size limit
            raise SeedFileError(path, start, None, f"not readable as CSV: {exc}") from None
        rows.append((start, row))


def _check_header(path: Path, header: list[str]) -> str:
    keys = [column for column in header if column in KEY_COLUMNS]
    if len(keys) != 1 or header[0] not in KEY_COLUMNS:
        raise SeedFileError(
            path, 1, "1", "the first column must be 'slot' or 'serial' (and only one of them)"
        )
    allowed = {header[0], "secret", *OPTIONAL_COLUMNS}
    for index, column in enumerate(header, start=1):
        if column not in allowed:
            raise SeedFileError(
                path, 1, f"{index} ({column or 'empty'})",
                "unknown column; expected slot|serial,secret[,algorithm][,period][,digits]",
            )  # fmt: skip
        if header.count(column) > 1:
            raise SeedFileError(path, 1, f"{index} ({column})", "column given twice")
    if "secret" not in header:
        raise SeedFileError(path, 1, None, "no 'secret' column")
    return header[0]


def _entry(path: Path, line: int, cells: dict[str, str], key: str) -> SeedEntry:
    columns = list(cells)

    def where(name: str) -> str:
        return f"{columns.index(name) + 1} ({name})"

    slot = serial = None
    if key == "slot":
        try:
            slot = int(cells["slot"])
        except ValueError:
            raise SeedFileError(path, line, where("slot"), "not a whole number") from None
        if slot < 1:
            raise SeedFileError(path, line, where("slot"), "slots are numbered from 1")
    else:
        serial = cells["serial"]
        if not serial:
            raise SeedFileError(path, line, where("serial"), "empty")
    if not cells["secret"]:
        raise SeedFileError(path, line, where("secret"), "empty")
    try:
        material = decode_base32(cells["secret"]).key
    except Base32Error as exc:
        # Base32Error may quote the offending character; a seed file error quotes none.
        at = f" at character {exc.position + 1}" if exc.position is not None else ""
        raise SeedFileError(path, line, where("secret"), f"not base32{at}") from None
    algorithm = Algorithm.SHA1
    if cells.get("algorithm"):
        try:
            algorithm = Algorithm(cells["algorithm"].upper())
        except ValueError:
            raise SeedFileError(
                path, line, where("algorithm"), "not SHA1, SHA256 or SHA512"
            ) from None
    period = _positive(path, line, cells, "period", 30, where)
    digits = _positive(path, line, cells, "digits", 6, where)
    return SeedEntry(
        line=line,
        slot=slot,
        serial=serial,
        secret=Secret(material, kind="seed"),
        algorithm=algorithm,
        period=period,
        digits=digits,
    )


def _positive(
    path: Path,
    line: int,
    cells: dict[str, str],
    name: str,
    default: int,
    where: Callable[[str], str],
) -> int:
    raw = cells.get(name, "")
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise SeedFileError(path, line, where(name), f"{raw!r} is not a positive whole number")
    return value
