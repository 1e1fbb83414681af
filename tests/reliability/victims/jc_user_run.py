"""A test run that makes a JumpCloud test user and then hangs until it is killed.

Not collected by the suite (no ``test_`` file prefix); ``test_cleanup.py`` runs it as its own
pytest process against an emulator and kills it, the way a CI job is cancelled.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from tokenrig.fixtures.jumpcloud import UserFactory


def test_make_a_user_then_hang(jc_user: UserFactory) -> None:
    user = jc_user()
    Path(os.environ["VICTIM_MARKER"]).write_text(user.username)
    time.sleep(600)
