"""Rigs as configuration: rig files, USB discovery, exclusive locking, and opening a rig."""
