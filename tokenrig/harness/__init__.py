"""The harness proper: TOTP core, tokens, transports, simulator, JumpCloud, qualification."""

from tokenrig import __version__

__all__ = ["__version__"]
