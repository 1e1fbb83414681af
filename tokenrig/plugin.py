"""tokenrig's pytest plugin, registered as the ``pytest11`` entry point ``tokenrig``.

Installing tokenrig gives every pytest run, in any repository, the options (``--rig``,
``--jumpcloud``, ``--profile`` and the qualification ones), the markers and the public
fixtures documented in docs/pytest-plugin.md. ``-p no:tokenrig`` turns all of it off.

This module only gathers the fixture modules: each concern keeps its own module under
``tokenrig.fixtures``. Fixtures that exist for tokenrig's own test suite (the enrollment edge
cases, the NFC pcscd) are not part of the plugin; the checkout's conftest.py loads them.
"""

from __future__ import annotations

import pytest

pytest_plugins = [
    "tokenrig.fixtures.options",
    "tokenrig.fixtures.jumpcloud",
    "tokenrig.fixtures.rig",
    "tokenrig.fixtures.tokens",
    "tokenrig.fixtures.enrolled",
    "tokenrig.fixtures.records",
    "tokenrig.fixtures.qualification",
    "tokenrig.fixtures.redaction",
]

MARKERS = (
    "hil: needs a real token rig (give one with --rig FILE|URL); skipped, saying why, otherwise",
    "jumpcloud_live: needs a real JumpCloud org (--jumpcloud URL and JUMPCLOUD_API_KEY)",
)


def pytest_configure(config: pytest.Config) -> None:
    for line in MARKERS:
        config.addinivalue_line("markers", line)
