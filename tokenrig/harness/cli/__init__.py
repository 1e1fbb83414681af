"""The ``tokenrig`` command: one sub-command module per concern, wired up in :mod:`main`."""
