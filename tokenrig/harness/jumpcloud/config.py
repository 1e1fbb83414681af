"""Where the console API is and which key opens it: ``--jumpcloud``/``JUMPCLOUD_URL`` and
``JUMPCLOUD_API_KEY`` (optionally ``JUMPCLOUD_ORG_ID`` for multi-tenant admins).

The key is held as :class:`~tokenrig.harness.secrets.SecretText` from the moment it is read, so no
repr,
log line or report can print it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from tokenrig.harness.secrets import SecretText

DEFAULT_URL = "https://console.jumpcloud.com"


class ConfigError(ValueError):
    """The URL or key is missing or malformed (the message names which)."""


@dataclass(frozen=True)
class JumpCloudConfig:
    url: str
    api_key: SecretText
    org_id: str | None = None

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"JumpCloud URL must be http(s)://host[:port], got {self.url!r}")
        if not self.api_key:
            raise ConfigError("JumpCloud API key is empty (set JUMPCLOUD_API_KEY)")

    @property
    def base_url(self) -> str:
        """The URL without a trailing slash or a trailing ``/api`` (both are accepted)."""
        url = self.url.rstrip("/")
        return url[: -len("/api")] if url.endswith("/api") else url

    @classmethod
    def from_env(
        cls, url: str | None = None, env: Mapping[str, str] | None = None
    ) -> JumpCloudConfig:
        """``url`` (from ``--jumpcloud``) or ``JUMPCLOUD_URL`` or the public console; key from
        ``JUMPCLOUD_API_KEY``."""
        env = os.environ if env is None else env
        key = env.get("JUMPCLOUD_API_KEY", "")
        if not key:
            raise ConfigError("JUMPCLOUD_API_KEY is not set")
        return cls(
            url=url or env.get("JUMPCLOUD_URL") or DEFAULT_URL,
            api_key=SecretText(key, "JumpCloud API key"),
            org_id=env.get("JUMPCLOUD_ORG_ID") or None,
        )
