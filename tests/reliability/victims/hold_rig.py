"""A run that opens a rig (taking its lock) and then works until it is killed.

Started as a subprocess by ``test_cleanup.py``: ``python hold_rig.py URL LOCK_DIR``. It prints
``held`` once the rig is open so the test knows when to kill it.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from tokenrig.harness.rigs.rig import open_rig


def main(url: str, lock_dir: str) -> None:
    with open_rig(url, lock_dir=Path(lock_dir)) as rig:
        print("held", flush=True)
        while True:
            rig.client.identify()
            time.sleep(0.05)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
