"""Rigs on labgrid places (``--rig labgrid:PLACE``, a rig file with ``[labgrid]``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tokenrig.harness.rigs.config import RigConfig, RigFileError
from tokenrig.harness.rigs.kind import OpenOptions, OpenRig
from tokenrig.harness.tokens.base import InfrastructureError


class LabgridKind:
    name = "labgrid"
    sections: frozenset[str] = frozenset({"labgrid"})
    simulated = False

    def ad_hoc(self, target: str) -> RigConfig | None:
        if not target.startswith("labgrid:"):
            return None
        place = target.removeprefix("labgrid:")
        return RigConfig(name=place, kind="labgrid", options={"labgrid": {"place": place}})

    def check(self, config: RigConfig, raw: Mapping[str, Any]) -> None:
        if config.url is not None or config.usb is not None:
            raise RigFileError(config.source, "url", "a labgrid rig is reached by [labgrid] place")

    def open(self, config: RigConfig, options: OpenOptions) -> OpenRig:
        raise InfrastructureError(f"rig {config.name}: labgrid places are not supported yet")


LABGRID_KIND = LabgridKind()
