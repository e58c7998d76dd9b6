"""What files does the index already have? (PEP 691 JSON, PEP 503 HTML fallback).

The page read is the project's page under the target's simple index (given
with ``--index-url``, else derived from the upload URL's layout: see
:mod:`trustpub.repository`). A private index needs credentials to show it: the
user's own credential goes with the request when the page is on the upload
URL's host (same scheme, host and port); to another host, or without one, the
request is anonymous. Minted trusted-publishing tokens are never sent here.
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urljoin, urlsplit

import httpx

from trustpub._http import DEFAULT_RETRY, RetryPolicy, request_with_retries
from trustpub.errors import NetworkError
from trustpub.repository import IndexTarget

if TYPE_CHECKING:
    from trustpub._credential import UploadCredential

ACCEPT = (
    "application/vnd.pypi.simple.v1+json, "
    "application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1"
)
JSON_TYPE = "application/vnd.pypi.simple.v1+json"

_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


@dataclass(frozen=True)
class IndexFile:
    """One file listed on a project's simple page."""

    filename: str
    sha256: str | None
    url: str | None


def _malformed(url: str, why: str) -> NetworkError:
    return NetworkError(
        f"the index's simple page {url} is malformed: {why}",
        hint="the index does not follow PEP 691/503; run without --skip-existing",
        anchor="simple-page-malformed",
    )


def parse_json_page(data: Any, url: str) -> dict[str, IndexFile]:
    """Files of a PEP 691 JSON project page."""
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        raise _malformed(url, "no 'files' list")
    found: dict[str, IndexFile] = {}
    for entry in data["files"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("filename"), str):
            raise _malformed(url, "a file entry without a filename")
        hashes = entry.get("hashes")
        sha256 = hashes.get("sha256") if isinstance(hashes, dict) else None
        link = entry.get("url")
        found[entry["filename"]] = IndexFile(
            filename=entry["filename"],
            sha256=sha256.lower() if isinstance(sha256, str) and _SHA256.match(sha256) else None,
            url=urljoin(url, link) if isinstance(link, str) else None,
        )
    return found


def _anchors(text: str) -> list[tuple[str, str]]:
    """``(href, text)`` of every ``<a>`` of an HTML page.

    html.parser is imported here, not with the module: most indexes answer in
    JSON, and the upload path should not pay for compiling its expressions.
    """
    from html.parser import HTMLParser

    class Anchors(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.links: list[tuple[str, str]] = []
            self._href: str | None = None
            self._text: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "a":
                self._href = dict(attrs).get("href") or ""
                self._text = []

        def handle_data(self, data: str) -> None:
            if self._href is not None:
                self._text.append(data)

        def handle_endtag(self, tag: str) -> None:
            if tag == "a" and self._href is not None:
                self.links.append((self._href, "".join(self._text).strip()))
                self._href = None

    parser = Anchors()
    parser.feed(text)
    parser.close()
    return parser.links


def parse_html_page(text: str, url: str) -> dict[str, IndexFile]:
    """Files of a PEP 503 HTML project page (hash from the ``#sha256=`` fragment)."""
    found: dict[str, IndexFile] = {}
    for href, label in _anchors(text):
        parts = urlsplit(href)
        filename = label or unquote(parts.path.rsplit("/", 1)[-1])
        if not filename:
            continue
        sha256 = None
        fragment = parts.fragment
        if fragment.startswith("sha256=") and _SHA256.match(fragment[7:]):
            sha256 = fragment[7:].lower()
        found[filename] = IndexFile(
            filename=filename, sha256=sha256, url=urljoin(url, href.split("#", 1)[0])
        )
    return found


def _unavailable(url: str, response: httpx.Response) -> NetworkError:
    return NetworkError(
        f"could not read the index's simple page {url}: HTTP {response.status_code}",
        hint="check --index-url (or the repository URL it is derived from); the index must "
        "serve PEP 691/503 pages for --dry-run and --skip-existing",
        anchor="simple-page-unavailable",
    )


def lookup_headers(
    target: IndexTarget, url: str, credential: UploadCredential | None
) -> dict[str, str]:
    """The request headers of a lookup: Basic auth only to the upload URL's own host."""
    headers = {"Accept": ACCEPT}
    if credential is not None and target.same_origin(url):
        pair = f"{credential.username}:{credential.password.reveal()}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
    return headers


def project_files(
    client: httpx.Client,
    target: IndexTarget,
    name: str,
    credential: UploadCredential | None = None,
    *,
    policy: RetryPolicy = DEFAULT_RETRY,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, IndexFile]:
    """The files the index lists for project ``name`` (empty if it has none).

    ``credential`` goes with the request to the upload URL's host only. Network
    errors, 429 and 5xx are retried under ``policy``. Raises :class:`NetworkError`
    when the page cannot be read, and :class:`~trustpub.errors.UsageError` when
    the simple index is unknown.
    """
    url = target.project_simple_url(name)
    headers = lookup_headers(target, url, credential)
    response = request_with_retries(
        policy,
        lambda: client.get(url, headers=headers),
        url=url,
        what="reading the index's simple page",
        server_error=lambda failed: _unavailable(url, failed),
        sleep=sleep,
    )
    if response.status_code in (404, 410) or response.is_redirect:
        # A redirect means the page is served elsewhere (pypiserver's fallback to PyPI).
        # Redirects are not followed, so no credential goes to another place.
        return {}
    if response.status_code in (401, 403):
        sent = "with" if "Authorization" in response.request.headers else "without"
        raise NetworkError(
            f"the index refused to show its simple page {url}: HTTP {response.status_code} "
            f"(asked {sent} credentials)",
            hint="give the index's user name and password (--username/--password or .pypirc); "
            "they are sent only to the upload URL's host, so --index-url must be on it",
            anchor="simple-page-unavailable",
        )
    if response.status_code != 200:
        raise _unavailable(url, response)
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if (
        content_type == JSON_TYPE
        or content_type.endswith("+json")
        or content_type == "application/json"
    ):
        try:
            data = response.json()
        except (ValueError, RecursionError):
            raise _malformed(url, "invalid JSON") from None
        return parse_json_page(data, url)
    return parse_html_page(response.text, url)


__all__ = [
    "ACCEPT",
    "IndexFile",
    "lookup_headers",
    "parse_html_page",
    "parse_json_page",
    "project_files",
]
