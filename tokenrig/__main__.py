"""``python -m tokenrig`` runs the ``tokenrig`` command."""

import sys

from tokenrig.harness.cli.main import run

sys.exit(run())
