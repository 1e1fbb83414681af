"""The enrollment suite's one browser: shared by every test here, closed when the suite ends
(Playwright's sync API allows one running instance per thread, and other suites start their
own)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tokenrig.fixtures.enrollment import chromium_session
from tokenrig.harness.jumpcloud.portal_driver import ChromiumSession


@pytest.fixture(scope="package")
def chromium() -> Iterator[ChromiumSession]:
    yield from chromium_session()
