"""Local JumpCloud emulator: console API, user portal and mail outbox on a loopback server.

``models`` holds the state, ``server`` the HTTP frame and :class:`Emulator`; route modules
(``console``, ``controls``, ``portal``) translate HTTP to calls on the models.
"""

from tokenrig.harness.jumpcloud.emulator.models import (
    EmulatorError,
    EmulatorState,
    MailKind,
    MailMessage,
)
from tokenrig.harness.jumpcloud.emulator.server import Emulator

__all__ = ["Emulator", "EmulatorError", "EmulatorState", "MailKind", "MailMessage"]
