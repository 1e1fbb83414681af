"""The checkout's own test set-up, for the suites under tests/, tokenrig/suites/ and benchmarks/.

The public plugin (options, markers, the documented fixtures) is the installed ``tokenrig``
pytest11 entry point, exactly as in a QA team's repository. Naming the entry point here is a
no-op when pytest already loaded it and respects ``-p no:tokenrig``; only when tokenrig is
importable without its metadata (``PYTHONPATH=$PWD``) is the module named instead. Either way it
is registered once. The two fixture modules after it serve tokenrig's own tests (enrollment edge
cases, NFC through pcscd) and are not part of the public plugin.
"""

from tokenrig.harness.packaged import plugin_args

pytest_plugins = [
    plugin_args()[1],
    "tokenrig.fixtures.enrollment",
    "tokenrig.fixtures.nfc",
]
