"""Where to publish: ``pypi``, ``testpypi`` or an upload URL, resolved once.

An :class:`IndexTarget` names the upload endpoint and the index host that
serves ``/_/oidc/*``. It also knows which audience the index may legitimately
ask for: PyPI's and TestPyPI's audiences are only ever valid for their own
hosts (the audience guard).

It also knows the index's *layout*, read from the upload URL, which decides
where its simple index is (for ``--dry-run`` and ``--skip-existing``) and
whether it has PyPI's ``/project/<name>/`` web pages:

=============  ==================================  ===============================
layout         upload URL                          simple index
=============  ==================================  ===============================
warehouse      ``https://host/legacy/`` (PyPI,     ``https://host/simple/``
               TestPyPI, the sandbox)
pypiserver     ``https://host/`` (its root)        ``https://host/simple/``
devpi          ``https://host/<user>/<index>/``    ``https://host/<user>/<index>/+simple/``
subpath        GitLab, Artifactory, Nexus,         ``<upload URL>/simple/``
               CodeArtifact, Artifact Registry
unknown        anything else                       none: ``--index-url`` names it
=============  ==================================  ===============================
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import SplitResult, urlsplit, urlunsplit

from trustpub.errors import UsageError

Layout = Literal["warehouse", "pypiserver", "devpi", "subpath", "unknown"]

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
    layout: Layout = "warehouse"
    """How the index lays out its URLs (see the module docstring)."""
    simple_root: str | None = None
    """The simple index given with ``--index-url`` (ends in ``/``); None: from the layout."""

    @property
    def host(self) -> str:
        """The index host name, lower-case, without port."""
        return (urlsplit(self.index_url).hostname or "").lower()

    @property
    def is_loopback(self) -> bool:
        """Whether the index is on this machine (http allowed, sandbox)."""
        return is_loopback_host(self.host)

    @property
    def simple_url(self) -> str | None:
        """PEP 503/691 simple index root, or None when the layout does not tell it."""
        if self.simple_root is not None:
            return self.simple_root
        if self.layout in ("warehouse", "pypiserver"):
            return f"{self.index_url}/simple/"
        if self.layout == "devpi":
            return f"{self.upload_url}+simple/"
        if self.layout == "subpath":
            return f"{self.upload_url}simple/"
        return None

    def project_simple_url(self, name: str) -> str:
        """The PEP 691 page of one project (normalized name).

        Raises :class:`UsageError` when the simple index is unknown (``--index-url`` fixes it).
        """
        root = self.simple_url
        if root is None:
            raise UsageError(
                f"cannot tell where the simple index of {self.upload_url} is",
                hint="name it with --index-url URL (or TRUSTPUB_INDEX_URL, or index_url in "
                ".pypirc); --dry-run and --skip-existing read it to see what is there",
                anchor="index-url-unknown",
            )
        return f"{root}{normalize_name(name)}/"

    @property
    def has_project_pages(self) -> bool:
        """Whether ``/project/<name>/`` pages exist (PyPI's web layout)."""
        return self.layout == "warehouse"

    def same_origin(self, url: str) -> bool:
        """Whether ``url`` has the upload URL's scheme, host and port (credentials may go there)."""
        mine, other = urlsplit(self.upload_url), urlsplit(url)
        return (mine.scheme, mine.hostname, mine.port) == (other.scheme, other.hostname, other.port)

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


def refuse_remote_http(scheme: str, host: str, *, what: str, anchor: str) -> None:
    """Plain http is for loopback addresses only: raise for any other host."""
    if scheme == "http" and not is_loopback_host(host):
        raise UsageError(
            f"refusing plain http for {what}",
            hint="use https; plain http is only allowed for loopback addresses (127.0.0.1, localhost)",
            anchor=anchor,
        )


_ASCII_HOST = re.compile(r"[a-z0-9.\-]+|[0-9a-f:.]+")


def _split_url(text: str) -> tuple[SplitResult, str]:
    """The parts of an upload URL and its host; a :class:`UsageError` for what cannot be one.

    Hosts must be ASCII (an internationalised name in its ``xn--`` form): a
    full-width or look-alike character is refused, not normalised to another host.
    """
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError as error:  # "Invalid IPv6 URL", a port out of range, NFKC look-alikes
        raise UsageError(
            f"invalid repository URL {text!r}: {error}",
            hint="give an http(s) upload URL such as https://upload.example.org/legacy/",
            anchor="invalid-repository-url",
        ) from None
    if (host and not _ASCII_HOST.fullmatch(host)) or port == 0:
        raise UsageError(
            f"invalid repository URL {text!r}: the host {host!r} is not an ASCII host name",
            hint="write the host in ASCII (an internationalised name in its xn-- form)",
            anchor="invalid-repository-url",
        )
    return parts, host


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
    parts, host = _split_url(text)
    if parts.scheme not in ("http", "https") or not host:
        raise UsageError(
            f"invalid repository URL {text!r}",
            hint="give an http(s) upload URL such as https://upload.example.org/legacy/",
            anchor="invalid-repository-url",
        )
    if parts.username or parts.password:
        raise UsageError(
            "the repository URL must not contain a user name or password",
            hint="remove the credentials from the URL; pass them with --username and --password",
            anchor="invalid-repository-url",
        )
    refuse_remote_http(parts.scheme, host, what=host, anchor="invalid-repository-url")
    _refuse_simple_index(text, parts.path)
    if host in _HOST_ALIASES and parts.scheme == "https" and parts.port is None:
        return _HOST_ALIASES[host]
    # The URL is used as given (pypiserver takes uploads at "/"); only Warehouse's
    # "/legacy" gets its trailing slash, which Warehouse would otherwise answer with a 308.
    path = parts.path or "/"
    if path.endswith("/legacy"):
        path += "/"
    layout = url_layout(host, path)
    if layout in ("devpi", "subpath") and not path.endswith("/"):
        path += "/"
    upload_url = urlunsplit((parts.scheme, parts.netloc.lower(), path, "", ""))
    index_url = urlunsplit((parts.scheme, parts.netloc.lower(), "", "", ""))
    return IndexTarget(upload_url=upload_url, index_url=index_url, layout=layout)


def _refuse_simple_index(text: str, path: str) -> None:
    """An upload URL that names a simple index (``.../simple/``, devpi's ``+simple/``)."""
    segments = [segment for segment in path.split("/") if segment]
    if segments and segments[-1].lower() in ("simple", "+simple"):
        upload = "/" + "/".join(segments[:-1]) + "/" if segments[:-1] else "/"
        raise UsageError(
            f"{text!r} is a simple index (where pip reads), not an upload URL",
            hint=f"upload to the index's upload URL (for this one probably {upload!r}, or "
            "/legacy/ on a PyPI-like index); name the simple index with --index-url",
            anchor="upload-url-is-simple-index",
        )


def url_layout(host: str, path: str) -> Layout:
    """The layout an upload URL shows (see the module docstring)."""
    segments = [segment for segment in path.split("/") if segment]
    if segments[-1:] == ["legacy"]:
        return "warehouse"
    if not segments:
        return "pypiserver"
    if _is_subpath_index(host, segments):
        return "subpath"
    if len(segments) == 2 and not any(segment.startswith("+") for segment in segments):
        return "devpi"
    return "unknown"


def _is_subpath_index(host: str, segments: list[str]) -> bool:
    """Indexes documented to serve their simple index at ``<upload URL>/simple/``."""
    if host.endswith("-python.pkg.dev") or ".codeartifact." in host:
        return True  # Google Artifact Registry, AWS CodeArtifact
    if segments[-2:] == ["packages", "pypi"] and "projects" in segments:
        return True  # GitLab: /api/v4/projects/<id>/packages/pypi
    if len(segments) >= 3 and segments[-3:-1] == ["api", "pypi"]:
        return True  # Artifactory: /artifactory/api/pypi/<repo>
    return len(segments) == 2 and segments[0] == "repository"  # Nexus: /repository/<repo>/


__all__ = [
    "PYPI",
    "RESERVED_AUDIENCES",
    "TESTPYPI",
    "IndexTarget",
    "Layout",
    "is_loopback_host",
    "normalize_name",
    "resolve_repository",
    "url_layout",
]
