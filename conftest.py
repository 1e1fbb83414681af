"""Loads tokenrig's pytest plugins for every suite under tests/ and benchmarks/."""

pytest_plugins = [
    "fixtures.options",
    "fixtures.jumpcloud",
    "fixtures.rig",
    "fixtures.tokens",
    "fixtures.records",
    "fixtures.qualification",
    "fixtures.enrollment",
    "fixtures.nfc",
]
