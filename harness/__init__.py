"""tokenrig: a hardware-in-the-loop harness for programmable TOTP tokens.

The import package is ``harness``; the distribution and the command are ``tokenrig``.
"""

__version__ = "0.1.0"
