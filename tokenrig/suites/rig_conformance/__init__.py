"""Rig conformance: does a rig speak docs/rig-protocol.md version 1?"""
