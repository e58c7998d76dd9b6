"""Where to publish: ``pypi``, ``testpypi`` or an upload URL, resolved once.

An :class:`IndexTarget` names the upload endpoint and the index host that
serves ``/_/oidc/*``, ``/simple/`` and ``/pypi/<name>/json``. It also knows
which audience the index may legitimately ask for: PyPI's and TestPyPI's
audiences are only ever valid for their own hosts (the audience guard).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from trustpub.errors import UsageError

RESERVED_AUDIENCES = {"pypi": "pypi.org", "testpypi": "test.pypi.org"}
"""Audiences that belong to one index host each; any other host asking for them is refused."""


@dataclass(frozen=True)
class IndexTarget:
    """A resolved repository."""

    upload_url: str
    """The legacy upload endpoint, always ending in ``/``."""
    index_url: str
    """``scheme://host[:port]`` of the index (``https://pypi.org`` for PyPI)."""
    name: str | None = None
    """``pypi`` or ``testpypi`` for the known indexes, else None."""

    @property
    def host(self) -> str:
        """The index host name, lower-case, without port."""
        return (urlsplit(self.index_url).hostname or "").lower()

    @property
    def is_loopback(self) -> bool:
        """Whether the index is on this machine (http allowed, sandbox)."""
        return is_loopback_host(self.host)

    @property
    def simple_url(self) -> str:
        """PEP 503/691 simple index root."""
        return f"{self.index_url}/simple/"

    def project_simple_url(self, name: str) -> str:
        """The PEP 691 page of one project (normalized name)."""
        return f"{self.simple_url}{normalize_name(name)}/"

    def oidc_url(self, endpoint: str) -> str:
        """``/_/oidc/<endpoint>`` on the index host."""
        return f"{self.index_url}/_/oidc/{endpoint}"

    @property
    def display(self) -> str:
        """How to name this index to a user."""
        return self.name or self.upload_url


PYPI = IndexTarget(
    upload_url="https://upload.pypi.org/legacy/", index_url="https://pypi.org", name="pypi"
)
TESTPYPI = IndexTarget(
    upload_url="https://test.pypi.org/legacy/", index_url="https://test.pypi.org", name="testpypi"
)
_KNOWN = {"pypi": PYPI, "testpypi": TESTPYPI}
_HOST_ALIASES = {"upload.pypi.org": PYPI, "pypi.org": PYPI, "test.pypi.org": TESTPYPI}


def normalize_name(name: str) -> str:
    """PEP 503 normalization."""
    return re.sub(r"[-_.]+", "-", name).lower()


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback IP addresses."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve_repository(value: str) -> IndexTarget:
    """Resolve ``--repository``: a known name or an upload URL.

    Raises :class:`UsageError` for unknown names, non-http(s) URLs, and plain
    http to anything but a loopback address.
    """
    text = value.strip()
    if text.lower() in _KNOWN:
        return _KNOWN[text.lower()]
    if "://" not in text:
        raise UsageError(
            f"unknown repository {text!r}",
            hint="use 'pypi', 'testpypi', or an upload URL such as https://upload.example.org/legacy/",
            anchor="unknown-repository",
        )
    parts = urlsplit(text)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        raise UsageError(
            f"invalid repository URL {text!r}",
            hint="give an http(s) upload URL such as https://upload.example.org/legacy/",
            anchor="invalid-repository-url",
        )
    if parts.username or parts.password:
        raise UsageError(
            "the repository URL must not contain a user name or password",
            hint="remove the credentials from the URL; pass a token with --token or use trusted publishing",
            anchor="invalid-repository-url",
        )
    if parts.scheme == "http" and not is_loopback_host(host):
        raise UsageError(
            f"refusing plain http for {host}",
            hint="use https; plain http is only allowed for loopback addresses (127.0.0.1, localhost)",
            anchor="invalid-repository-url",
        )
    if host in _HOST_ALIASES and parts.scheme == "https" and parts.port is None:
        return _HOST_ALIASES[host]
    # The URL is used as given (pypiserver takes uploads at "/"); only Warehouse's
    # "/legacy" gets its trailing slash, which Warehouse would otherwise answer with a 308.
    path = parts.path or "/"
    if path.endswith("/legacy"):
        path += "/"
    upload_url = urlunsplit((parts.scheme, parts.netloc.lower(), path, "", ""))
    index_url = urlunsplit((parts.scheme, parts.netloc.lower(), "", "", ""))
    return IndexTarget(upload_url=upload_url, index_url=index_url)


__all__ = [
    "PYPI",
    "RESERVED_AUDIENCES",
    "TESTPYPI",
    "IndexTarget",
    "is_loopback_host",
    "normalize_name",
    "resolve_repository",
]
