"""Entry point of the ``tokenrig`` command.

Each sub-command lives in its own module exposing ``register(subparsers)``; the module sets
``func`` on its parser, which receives the parsed arguments and returns the exit status.
Exit statuses: 0 success, 1 a verdict or lookup failed, 2 usage or configuration error
(bad input, a rig or reader that cannot be opened, is busy or lacks the slot asked for),
128 + the signal when stopped by one (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP). The signal handlers
(tokenrig.harness.interrupts) go in before the sub-commands are even imported, so a stop at any
moment, in any sub-command, unwinds through its ``finally`` blocks (a rig lock is released, a
burn finishes its seed write) and ends with one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
from collections.abc import Callable, Sequence

from tokenrig.harness import __version__, interrupts
from tokenrig.harness.transports.rig_protocol import PROTOCOL_VERSION

# One line per sub-command module (tokenrig.harness.cli.<name>), in the order `--help` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "otp",
    "sim",
    "rigs",
    "jumpcloud",
    "qualify",
    "report",
    "burn",
    "enroll",
    "camera",
)

EXIT_OK = 0
EXIT_FAIL = 1
EXIT_USAGE = 2


class UsageError(Exception):
    """Bad input from the user: printed as one line on stderr, exit status 2, no traceback."""


def version_text() -> str:
    """The package version and the rig protocol version this host speaks (rig-protocol.md)."""
    return f"tokenrig {__version__} (rig protocol {PROTOCOL_VERSION})"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tokenrig",
        description="Hardware-in-the-loop harness for programmable TOTP tokens.",
    )
    parser.add_argument("--version", action="version", version=version_text())
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"tokenrig.harness.cli.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    with interrupts.installed():
        command = "tokenrig"
        try:
            parser = build_parser()
            args = parser.parse_args(argv)
            command = f"tokenrig {args.command}"
            func: Callable[[argparse.Namespace], int] = args.func
            return func(args)
        except UsageError as exc:
            print(f"{command}: {exc}", file=sys.stderr)
            return EXIT_USAGE
        except KeyboardInterrupt as exc:
            signum = getattr(exc, "signum", signal.SIGINT)
            print(f"{command}: interrupted by {interrupts.signal_name(signum)}", file=sys.stderr)
            return interrupts.exit_status(signum)


def run() -> int:
    """The program's entry point (console script and ``python -m tokenrig``): :func:`main`,
    then the exit status stands. Once main has returned, every output is written and the
    status decided; a signal landing in the last moments before the process ends would
    otherwise kill it and turn a true 0 or 1 into "killed by SIGINT" (or, for one that landed
    after a complete run, a status the records contradict)."""
    status = main()
    for signum in interrupts.SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
    return status


if __name__ == "__main__":
    # Run through the package module so sub-commands and this file share one UsageError.
    from tokenrig.harness.cli.main import run as package_run

    sys.exit(package_run())
