"""``python -m harness`` runs the ``tokenrig`` command."""

import sys

from harness.cli.main import main

sys.exit(main())
