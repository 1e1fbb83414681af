"""JumpCloud: a typed console-API client and a local emulator of the service.

The client (:class:`JumpCloudClient`) talks to console.jumpcloud.com or to the emulator
(:mod:`tokenrig.harness.jumpcloud.emulator`) alike; tests do not know which one they got.
"""

from tokenrig.harness.jumpcloud.client import JumpCloudClient
from tokenrig.harness.jumpcloud.config import ConfigError, JumpCloudConfig
from tokenrig.harness.jumpcloud.errors import (
    BadRequest,
    Conflict,
    JumpCloudError,
    NotFound,
    RateLimited,
    ServerError,
    TransportError,
    Unauthorized,
)
from tokenrig.harness.jumpcloud.objects import (
    MfaEnrollment,
    MfaStatus,
    Organization,
    SystemUser,
    UserPage,
    UserState,
)
from tokenrig.harness.jumpcloud.retry import RetryPolicy

__all__ = [
    "BadRequest",
    "ConfigError",
    "Conflict",
    "JumpCloudClient",
    "JumpCloudConfig",
    "JumpCloudError",
    "MfaEnrollment",
    "MfaStatus",
    "NotFound",
    "Organization",
    "RateLimited",
    "RetryPolicy",
    "ServerError",
    "SystemUser",
    "TransportError",
    "Unauthorized",
    "UserPage",
    "UserState",
]
