"""``tokenrig report DIR``: render report.html again from a run's records.json.

For a report with a newer template, or after merging records by hand. Verdicts are derived
again from the recorded procedures and measurements (the limits are those recorded), so a run
that was killed before it finalised its records (status ``running``) reads as incomplete.
A malformed records.json is refused with the JSON path of the first bad value, exit 2.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from tokenrig.harness.cli.main import EXIT_OK, UsageError
from tokenrig.harness.qualify.verdict import summary_line
from tokenrig.harness.reports.outputs import RECORDS_JSON, write_report
from tokenrig.harness.reports.tables import RecordsFormatError, read_records_json


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
    except RecordsFormatError as exc:
        raise UsageError(f"{records}: {exc}") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"{records}: not UTF-8 text: {exc.reason}") from None
    except OSError as exc:
        raise UsageError(f"{records}: cannot read: {exc.strerror}") from None
    path = write_report(batch, directory)
    print(summary_line(batch))
    print(path)
    return EXIT_OK
