"""The single error root of trustpub.

Core code raises these; only the CLI turns them into output and an exit code.
Every error carries a one-line ``message`` (what went wrong), a ``hint`` (what
to do about it) and optionally extra ``details`` lines (claims tables, lists of
files) and a troubleshooting ``anchor`` in the documentation site.

Messages and hints must never contain a secret: build them from claims, file
names and status lines, never from token values. The CLI scrubs every known
secret from its output as a last line of defence, but that is not a licence.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum
from typing import Any

DOCS_URL = "https://trustpub.readthedocs.io/en/latest/"
"""Root of the documentation site; troubleshooting links hang off it."""


class ExitCode(IntEnum):
    """Documented process exit codes (README "Exit codes")."""

    OK = 0
    FAILURE = 1
    """Something failed that is not covered below, or `claims` found a blocker."""
    USAGE = 2
    """Bad command line, bad option combination, bad configuration."""
    INVALID_DIST = 3
    """A distribution failed validation; nothing was uploaded."""
    IDENTITY = 4
    """No usable identity or credential (OIDC token, API token)."""
    EXCHANGE = 5
    """The index refused or failed the trusted-publishing token exchange."""
    UPLOAD = 6
    """The index refused an upload (some files may have landed; see the summary), or a dry
    run found a different file of the same name on the index."""
    NETWORK = 7
    """The index could not be reached or kept failing after retries."""
    INTERRUPTED = 130
    """Stopped by SIGINT (Ctrl-C)."""
    TERMINATED = 143
    """Stopped by SIGTERM (a cancelled CI job); the summary shows what was uploaded."""


def troubleshooting_url(anchor: str) -> str:
    """The documentation URL of one troubleshooting entry."""
    return f"{DOCS_URL}troubleshooting/#{anchor}"


class TrustpubError(Exception):
    """Root of every error trustpub raises on purpose."""

    exit_code: ExitCode = ExitCode.FAILURE
    default_anchor: str = ""

    def __init_subclass__(
        cls, *, exit_code: ExitCode | None = None, anchor: str | None = None, **kwargs: Any
    ) -> None:
        """A family of errors names its exit code and docs anchor in its class line."""
        super().__init_subclass__(**kwargs)
        if exit_code is not None:
            cls.exit_code = exit_code
        if anchor is not None:
            cls.default_anchor = anchor

    def __init__(
        self,
        message: str,
        *,
        hint: str = "",
        details: Sequence[str] = (),
        anchor: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details: tuple[str, ...] = tuple(details)
        self.anchor = self.default_anchor if anchor is None else anchor

    @property
    def docs_url(self) -> str | None:
        """Link to the troubleshooting entry for this error, if it has one."""
        return troubleshooting_url(self.anchor) if self.anchor else None

    def diagnostics(self) -> str:
        """Multi-line human text: message, details, hint, docs link."""
        lines = [self.message]
        lines.extend(self.details)
        if self.hint:
            lines.append(f"hint: {self.hint}")
        if self.docs_url:
            lines.append(f"docs: {self.docs_url}")
        return "\n".join(lines)


class UsageError(TrustpubError, exit_code=ExitCode.USAGE, anchor="usage-errors"):
    """Bad options, bad option combinations, bad configuration files."""


class ConfigError(UsageError, anchor="configuration-errors"):
    """A configuration file (pyproject.toml, sandbox TOML) is malformed."""


class DistributionError(TrustpubError, exit_code=ExitCode.INVALID_DIST):
    """A distribution file is missing, unreadable or invalid."""


class IdentityError(TrustpubError, exit_code=ExitCode.IDENTITY):
    """No usable OIDC token or API token could be obtained."""


class ExchangeError(TrustpubError, exit_code=ExitCode.EXCHANGE):
    """The trusted-publishing exchange (audience, mint) failed or was refused."""


class UploadError(TrustpubError, exit_code=ExitCode.UPLOAD):
    """The index refused an upload."""


class NetworkError(TrustpubError, exit_code=ExitCode.NETWORK):
    """The index could not be reached, or kept failing after retries."""


class SandboxError(TrustpubError, exit_code=ExitCode.USAGE, anchor="sandbox-errors"):
    """The local sandbox index could not start or was misconfigured."""


__all__ = [
    "DOCS_URL",
    "ConfigError",
    "DistributionError",
    "ExchangeError",
    "ExitCode",
    "IdentityError",
    "NetworkError",
    "SandboxError",
    "TrustpubError",
    "UploadError",
    "UsageError",
    "troubleshooting_url",
]
