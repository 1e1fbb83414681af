"""The pytest suites tokenrig ships and runs itself (``tokenrig qualify``; rig conformance).

They live inside the import package, not in the checkout's ``tests/``, so that the installed
wheel can run them from any directory: ``tokenrig qualify`` and ``pytest --pyargs
tokenrig.suites.rig_conformance`` need nothing but the installed package.
"""
