"""Rigs qualified together must be told apart by name.

Records, progress, the ``--seeds`` check and the tests' ids key tokens by rig name and slot,
so two rigs with one name would merge their tokens (16 targets, 8 records) without a word.
"""

from __future__ import annotations

from collections.abc import Sequence

from tokenrig.harness.rigs.config import RigConfig


def duplicate_rig_name(rigs: Sequence[RigConfig]) -> str | None:
    """Why these rigs cannot run together, if two share a name (records, slots and seeds are
    keyed by rig name, so their tokens would merge), else None."""
    seen: dict[str, RigConfig] = {}
    for rig in rigs:
        if rig.name in seen:
            first = seen[rig.name].source or rig.url
            return (
                f"two rigs are named {rig.name!r} ({first} and {rig.source or rig.url}): "
                "their tokens would merge; give each rig its own name, or qualify it once"
            )
        seen[rig.name] = rig
    return None
