"""``tokenrig report DIR``: render report.html again from a run's records.json.

For a report with a newer template, or after merging records by hand; the measurements are
not re-judged, the page shows what the run decided.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from tokenrig.harness.cli.main import EXIT_OK, UsageError
from tokenrig.harness.reports.outputs import RECORDS_JSON, write_report
from tokenrig.harness.reports.tables import read_records_json


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("report", help="re-render report.html from records.json")
    parser.add_argument("directory", metavar="DIR", help="a run's output directory")
    parser.set_defaults(func=run_report)


def run_report(args: argparse.Namespace) -> int:
    directory = Path(args.directory)
    records = directory / RECORDS_JSON
    if not records.is_file():
        raise UsageError(f"{records}: no such file (give a directory written by tokenrig qualify)")
    try:
        batch = read_records_json(records)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{records}: not valid JSON: {exc}") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"{records}: not a tokenrig records file: {exc}") from None
    print(write_report(batch, directory))
    return EXIT_OK
