"""``tokenrig rigs``: the configured rigs, and which rigs and tokens are on the USB bus.

The configured rigs are the built-in simulated rig (shipped in the package, the default of
every command) and the rig files of a directory: ``--dir``, else ``$TOKENRIG_RIGS``, else
``./rigs`` when the current directory has one (a directory named explicitly must exist).

A bad rig file stops the listing with its file, key and reason (exit 2): a typo in a rig file
should be found here, not halfway through a nightly run.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from tokenrig.harness.cli.main import EXIT_OK, UsageError
from tokenrig.harness.packaged import default_rig_file
from tokenrig.harness.rigs.config import RigConfig, RigFileError, load_rig_file
from tokenrig.harness.rigs.usb import UsbUnavailable, discover

RIGS_DIR_ENV = "TOKENRIG_RIGS"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("rigs", help="list configured rigs and USB rigs/tokens")
    parser.add_argument(
        "--dir",
        type=Path,
        default=None,
        help=f"directory of rig files (default: ${RIGS_DIR_ENV}, else ./rigs if present)",
    )
    parser.add_argument("--no-usb", action="store_true", help="skip USB discovery")
    parser.add_argument(
        "--labgrid",
        nargs="?",
        const="",
        default=None,
        metavar="HOST:PORT",
        help="also list the places of a labgrid coordinator (default: $LG_COORDINATOR): "
        "tags, who holds each, whether its serial port is available",
    )
    parser.set_defaults(func=run)


def load_rigs(directory: Path | None, *, required: bool = True) -> list[RigConfig]:
    """The built-in rig, then every ``*.toml`` under ``directory`` (examples included), each
    validated. A missing ``directory`` is an error only when it was ``required``."""
    configs = [load_rig_file(default_rig_file())]
    if directory is None or (not required and not directory.is_dir()):
        return configs
    if not directory.is_dir():
        raise UsageError(f"{directory}: no such rig directory")
    for path in sorted(directory.rglob("*.toml")):
        try:
            configs.append(load_rig_file(path))
        except RigFileError as exc:
            raise UsageError(str(exc)) from None
    return configs


def describe(config: RigConfig) -> str:
    if config.kind == "labgrid":
        table = config.options.get("labgrid", {})
        tags = ",".join(f"{k}={v}" for k, v in table.get("tags", {}).items())
        place = table.get("place") or f"tagged {tags}"
        where = f"labgrid {place} @ {table.get('coordinator') or '$LG_COORDINATOR'}"
    else:
        where = config.url if config.url else f"usb {config.usb}"
    models = ", ".join(f"{s.slot}:{s.model}" for s in config.slots) or "slots not listed"
    return f"{config.name:<20} {where:<40} {models}  ({config.source})"


def listing(configs: list[RigConfig], *, usb: bool = True, backend: Any = None) -> list[str]:
    lines = ["configured rigs:"]
    lines += [f"  {describe(c)}" for c in configs] or ["  (none)"]
    if not usb:
        return lines
    lines.append("USB devices:")
    try:
        devices = discover(configs, backend=backend)
    except UsbUnavailable as exc:
        return [*lines, f"  (not available: {exc})"]
    if not devices:
        lines.append("  (no rig or token found)")
    for dev in devices:
        name = " ".join(x for x in (dev.manufacturer, dev.product) if x) or "-"
        lines.append(
            f"  {dev.ids}  serial {dev.serial or '-'}  bus {dev.bus} addr {dev.address}  "
            f"{dev.kind}  [{name}]"
        )
    return lines


def labgrid_listing(address: str | None) -> list[str]:
    """The places of a labgrid coordinator, one line each; unreachable is a usage error."""
    from tokenrig.harness.rigs.labgrid_client import SHARED, LabgridError

    try:
        coordinator = SHARED.get(address or None)
        try:
            places = coordinator.places()
        finally:
            SHARED.put(coordinator)
    except LabgridError as exc:
        raise UsageError(f"--labgrid: {exc}") from None
    lines = [f"labgrid places (coordinator {coordinator.address}):"]
    for place in places:
        tags = ",".join(f"{k}={v}" for k, v in sorted(place.tags.items())) or "-"
        held = f"held by {place.holder}" if place.holder else "free"
        ports = place.serial_ports
        if not ports:
            serial = "no serial port matched"
        else:
            serial = "; ".join(
                f"{p.path} {'available' if p.available else 'UNAVAILABLE'}" for p in ports
            )
        lines.append(f"  {place.name:<20} tags {tags:<24} {held:<28} {serial}")
    if not places:
        lines.append("  (none: labgrid-client -p NAME create)")
    return lines


def run(args: argparse.Namespace) -> int:
    named = args.dir or os.environ.get(RIGS_DIR_ENV)
    directory = Path(named) if named else Path("rigs")
    lines = listing(load_rigs(directory, required=bool(named)), usb=not args.no_usb)
    if args.labgrid is not None:
        lines += labgrid_listing(args.labgrid)
    for line in lines:
        print(line)
    return EXIT_OK
