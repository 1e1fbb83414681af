"""Loads tokenrig's pytest plugins for every suite under tests/ and benchmarks/."""

pytest_plugins = [
    "tokenrig.fixtures.options",
    "tokenrig.fixtures.jumpcloud",
    "tokenrig.fixtures.rig",
    "tokenrig.fixtures.tokens",
    "tokenrig.fixtures.records",
    "tokenrig.fixtures.qualification",
    "tokenrig.fixtures.enrollment",
    "tokenrig.fixtures.nfc",
]
