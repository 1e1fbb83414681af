"""Org-wide changes a live run makes, recorded before they are made and put back at the end.

A test user is the run's own and is simply deleted; the org's TOTP factor and its settings are
the organization's, shared with every real user of it. A client given an :class:`OrgChanges`
reads the current value just before its first change of it (``set_totp_factor``,
``update_organization_settings``), and :meth:`OrgChanges.restore` writes those first values
back, so a run leaves the org as it found it even when its tests failed.

Settings are recorded by top-level key: the value a key had before the run is written back
whole. A key the org did not have before cannot be removed over the API; restore says so.
"""

from __future__ import annotations

import copy
import logging
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tokenrig.harness.jumpcloud.client import JumpCloudClient

log = logging.getLogger(__name__)


class OrgChanges:
    """What the run changed org-wide, with the value each had first (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.totp_before: bool | None = None
        """The TOTP factor before the run's first change of it (None: not changed)."""
        self.settings_before: dict[str, dict[str, Any]] = {}
        """Org id → {setting: its value before the run's first change of it}."""
        self.absent_before: dict[str, set[str]] = {}
        """Org id → settings the org did not have before the run set them."""

    @property
    def empty(self) -> bool:
        return self.totp_before is None and not self.settings_before and not self.absent_before

    def before_totp(self, client: JumpCloudClient) -> None:
        """Called by the client before it sets the TOTP factor."""
        with self._lock:
            if self.totp_before is not None:
                return
        enabled = client.totp_factor().enabled
        with self._lock:
            if self.totp_before is None:
                self.totp_before = enabled

    def before_settings(self, client: JumpCloudClient, org_id: str, keys: list[str]) -> None:
        """Called by the client before it writes ``keys`` of the org's settings."""
        with self._lock:
            known = set(self.settings_before.get(org_id, {})) | self.absent_before.get(
                org_id, set()
            )
        new = [key for key in keys if key not in known]
        if not new:
            return
        current = client.organization(org_id).settings
        with self._lock:
            before = self.settings_before.setdefault(org_id, {})
            absent = self.absent_before.setdefault(org_id, set())
            for key in new:
                if key in before or key in absent:
                    continue
                if key in current:
                    before[key] = copy.deepcopy(current[key])
                else:
                    absent.add(key)

    def restore(self, client: JumpCloudClient) -> list[str]:
        """Write every first value back; one line per thing restored or left changed.

        ``client`` must not itself record changes (it would record the restore). Each part is
        attempted even when an earlier one failed; the lines say what could not be restored.
        """
        from tokenrig.harness.jumpcloud.errors import JumpCloudError

        lines: list[str] = []
        for org_id, before in sorted(self.settings_before.items()):
            if not before:
                continue
            names = ", ".join(sorted(before))
            try:
                client.update_organization_settings(before, org_id)
            except JumpCloudError as exc:
                lines.append(f"NOT restored: org settings {names} ({exc}); restore them by hand")
            else:
                lines.append(f"restored org settings {names}")
        for absent in self.absent_before.values():
            if absent:
                names = ", ".join(sorted(absent))
                lines.append(f"left set: org settings {names} did not exist before the run")
        if self.totp_before is not None:
            state = "enabled" if self.totp_before else "disabled"
            try:
                factor = client.set_totp_factor(self.totp_before)
            except JumpCloudError as exc:
                lines.append(
                    f"NOT restored: TOTP factor should be {state} ({exc}); set it in the Admin "
                    "Console, MFA Configurations"
                )
            else:
                reads = "enabled" if factor.enabled else "disabled"
                lines.append(
                    f"restored TOTP factor: {state}"
                    if factor.enabled is self.totp_before
                    else f"NOT restored: TOTP factor should be {state}, reads {reads}"
                )
        for line in lines:
            log.info("%s", line)
        return lines
