"""The trusted-publisher model: one vocabulary for every place a publisher is described.

The sandbox's ``[[publishers]]`` tables, ``trustpub sandbox serve --publisher``,
``[tool.trustpub.publisher]`` in ``pyproject.toml`` and ``trustpub claims
--expect`` all describe a publisher with the same keys (docs/dev/contracts.md):

========================  ==========================================================
``provider``              ``github``, ``gitlab``, ``google`` or ``activestate``
``repository``            GitHub ``owner/name``; GitLab ``namespace/project``
``workflow``              GitHub workflow file name; GitLab top-level pipeline path
``environment``           optional (GitHub, GitLab)
``email``, ``sub``        Google service-account email, optional subject pin
``organization``,         ActiveState (all three required)
``project``, ``actor``
``projects``, ``pending`` sandbox: project names; pending publisher flag
``owner_id``              GitHub ``repository_owner_id`` pin (None: not pinned)
``actor_id``              ActiveState ``actor_id`` pin (None: not pinned)
``issuer``                GitLab issuer URL (None: the provider's own issuer)
========================  ==========================================================
"""

from __future__ import annotations

import ipaddress
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from trustpub.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]


class Provider(str, Enum):
    """The OIDC providers PyPI accepts trusted publishers for."""

    GITHUB = "github"
    GITLAB = "gitlab"
    GOOGLE = "google"
    ACTIVESTATE = "activestate"

    def __str__(self) -> str:
        return self.value

    @property
    def display_name(self) -> str:
        """The provider's name for people (``GitHub``)."""
        return _TITLES[self]


_TITLES = {
    Provider.GITHUB: "GitHub",
    Provider.GITLAB: "GitLab",
    Provider.GOOGLE: "Google",
    Provider.ACTIVESTATE: "ActiveState",
}

CANONICAL_ISSUERS: dict[Provider, str] = {
    Provider.GITHUB: "https://token.actions.githubusercontent.com",
    Provider.GITLAB: "https://gitlab.com",
    Provider.GOOGLE: "https://accounts.google.com",
    Provider.ACTIVESTATE: "https://platform.activestate.com/api/v1/oauth/oidc",
}
"""The issuers PyPI maps to each provider (Warehouse ``OIDC_ISSUER_SERVICE_NAMES``)."""

SANDBOX_ISSUER_PATH = "/_sandbox/"
"""The sandbox serves one issuer per provider at ``<sandbox>/_sandbox/<provider>``."""

_GITHUB_WORKFLOW = re.compile(r"^[^/\\]+\.(?:yml|yaml)$")
_GITLAB_PIPELINE = re.compile(r"^(?!/).*[^/]\.(?:yml|yaml)$")

_COMMON_KEYS = ("provider", "projects", "pending")
_PROVIDER_KEYS: dict[Provider, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # provider: (required keys, optional keys)
    Provider.GITHUB: (("repository", "workflow"), ("environment", "owner_id")),
    Provider.GITLAB: (("repository", "workflow"), ("environment", "issuer")),
    Provider.GOOGLE: (("email",), ("sub",)),
    Provider.ACTIVESTATE: (("organization", "project", "actor"), ("actor_id",)),
}
_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}


def parse_provider(value: object, *, where: str) -> Provider:
    """A :class:`Provider` from its name (case-insensitive) or raise :class:`ConfigError`."""
    text = str(value).strip().lower() if isinstance(value, (str, Provider)) else ""
    try:
        return Provider(text)
    except ValueError:
        names = ", ".join(p.value for p in Provider)
        raise ConfigError(
            f"{where}: unknown provider {value!r}",
            hint=f"set provider to one of: {names}",
            anchor="invalid-publisher-description",
        ) from None


def is_sandbox_issuer(issuer: str, provider: Provider | str | None = None) -> bool:
    """Whether ``issuer`` is a local sandbox issuer (``https://127.0.0.1:PORT/_sandbox/<p>``)."""
    parts = urlsplit(issuer)
    host = (parts.hostname or "").lower()
    loopback = host == "localhost"
    if not loopback:
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
    if not loopback or not parts.path.startswith(SANDBOX_ISSUER_PATH):
        return False
    name = parts.path[len(SANDBOX_ISSUER_PATH) :].strip("/")
    if provider is None:
        return name in {p.value for p in Provider}
    return name == str(provider)


def provider_for_issuer(issuer: str | None) -> Provider | None:
    """The provider whose canonical (or sandbox) issuer ``issuer`` is; None if unknown."""
    if not issuer:
        return None
    for provider, canonical in CANONICAL_ISSUERS.items():
        if issuer == canonical:
            return provider
    if is_sandbox_issuer(issuer):
        return Provider(urlsplit(issuer).path[len(SANDBOX_ISSUER_PATH) :].strip("/"))
    return None


def canonical_issuer_for(provider: Provider, issuer: str | None) -> str:
    """The issuer the index treats as ``provider``'s own, given the token's ``iss``.

    A token from the local sandbox's issuer for ``provider`` is judged against
    that issuer; anything else against the real one.
    """
    if issuer and is_sandbox_issuer(issuer, provider):
        return issuer
    return CANONICAL_ISSUERS[provider]


@dataclass(frozen=True)
class Publisher:
    """A trusted publisher as configured on the index (or declared by the user).

    ``None`` means "not set". Which keys apply depends on ``provider`` (module
    docstring); :meth:`from_mapping` enforces it.
    """

    provider: Provider
    repository: str | None = None
    workflow: str | None = None
    environment: str | None = None
    email: str | None = None
    sub: str | None = None
    organization: str | None = None
    project: str | None = None
    actor: str | None = None
    projects: tuple[str, ...] = ()
    pending: bool = False
    owner_id: str | None = None
    actor_id: str | None = None
    issuer: str | None = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, where: str) -> Publisher:
        """Build and validate a publisher; :class:`ConfigError` names the bad key and ``where``."""
        if "provider" not in data:
            raise ConfigError(
                f"{where}: missing key 'provider'",
                hint="add provider = 'github' (or gitlab, google, activestate)",
                anchor="invalid-publisher-description",
            )
        provider = parse_provider(data["provider"], where=where)
        required, optional = _PROVIDER_KEYS[provider]
        allowed = {*_COMMON_KEYS, *required, *optional}
        known = {f.name for f in fields(cls)}
        for key in data:
            if key not in known:
                raise ConfigError(
                    f"{where}: unknown key {key!r}",
                    hint="publisher keys: " + ", ".join(sorted(known)),
                    anchor="invalid-publisher-description",
                )
            if key not in allowed and data[key] not in (None, "", (), []):
                raise ConfigError(
                    f"{where}: key {key!r} does not apply to provider {provider.value}",
                    hint=f"{provider.value} publishers use: " + ", ".join((*required, *optional)),
                    anchor="invalid-publisher-description",
                )
        values: dict[str, Any] = {"provider": provider}
        for key in (*required, *optional):
            raw = data.get(key)
            if raw is None:
                continue
            if isinstance(raw, bool) or not isinstance(raw, (str, int)):
                raise ConfigError(
                    f"{where}: key {key!r} must be a string",
                    hint=f'write {key} = "..."',
                    anchor="invalid-publisher-description",
                )
            text = str(raw).strip()
            if text:
                values[key] = text
        for key in required:
            if key not in values:
                raise ConfigError(
                    f"{where}: missing key {key!r} for a {provider.value} publisher",
                    hint=f"{provider.value} publishers need: " + ", ".join(required),
                    anchor="invalid-publisher-description",
                )
        values["projects"] = _projects(data.get("projects"), where=where)
        values["pending"] = _boolean(data.get("pending", False), key="pending", where=where)
        publisher = cls(**values)
        publisher._validate(where)
        return publisher

    def _validate(self, where: str) -> None:
        def bad(key: str, message: str, hint: str) -> ConfigError:
            return ConfigError(
                f"{where}: key {key!r} {message}", hint=hint, anchor="invalid-publisher-description"
            )

        if self.provider is Provider.GITHUB:
            owner, _, name = (self.repository or "").partition("/")
            if not owner or not name or "/" in name:
                raise bad("repository", "must be 'owner/name'", "e.g. repository = 'octo/pkg'")
            if not _GITHUB_WORKFLOW.match(self.workflow or ""):
                raise bad(
                    "workflow",
                    "must be a workflow file name ending in .yml or .yaml, without a directory",
                    "e.g. workflow = 'release.yml' (the file in .github/workflows/)",
                )
        elif self.provider is Provider.GITLAB:
            namespace, _, project = (self.repository or "").rpartition("/")
            if not namespace or not project or namespace.startswith("/"):
                raise bad(
                    "repository", "must be 'namespace/project'", "e.g. repository = 'group/pkg'"
                )
            if not _GITLAB_PIPELINE.match(self.workflow or ""):
                raise bad(
                    "workflow",
                    "must be the top-level pipeline path ending in .yml or .yaml, "
                    "without a leading or trailing '/'",
                    "e.g. workflow = '.gitlab-ci.yml'",
                )
            if self.issuer is not None and not self.issuer.startswith("https://"):
                raise bad("issuer", "must be an https:// URL", "e.g. issuer = 'https://gitlab.com'")
        elif self.provider is Provider.GOOGLE and "@" not in (self.email or ""):
            raise bad(
                "email",
                "must be a service-account email",
                "e.g. email = 'release@my-project.iam.gserviceaccount.com'",
            )
        if self.pending and len(self.projects) != 1:
            raise bad(
                "projects",
                "must name exactly one project for a pending publisher",
                "e.g. projects = ['pkg'] with pending = true",
            )

    # -- derived views -------------------------------------------------------------

    def _split_repository(self, provider: Provider) -> tuple[str | None, str | None]:
        """``repository`` cut where ``provider`` cuts it (GitHub at the first ``/``, GitLab at
        the last); (None, None) when unset or when this publisher is another provider's."""
        if self.repository is None or self.provider is not provider:
            return None, None
        cut = str.partition if provider is Provider.GITHUB else str.rpartition
        head, _, tail = cut(self.repository, "/")
        return head, tail

    @property
    def owner(self) -> str | None:
        """GitHub owner (the part of ``repository`` before the first ``/``)."""
        return self._split_repository(Provider.GITHUB)[0]

    @property
    def repository_name(self) -> str | None:
        """GitHub repository name (after the first ``/``)."""
        return self._split_repository(Provider.GITHUB)[1]

    @property
    def namespace(self) -> str | None:
        """GitLab namespace (``repository`` up to its last ``/``)."""
        return self._split_repository(Provider.GITLAB)[0]

    @property
    def gitlab_project(self) -> str | None:
        """GitLab project name (after the last ``/`` of ``repository``)."""
        return self._split_repository(Provider.GITLAB)[1]

    def to_mapping(self) -> dict[str, Any]:
        """The keys that are set, in the shared vocabulary (inverse of :meth:`from_mapping`)."""
        out: dict[str, Any] = {"provider": self.provider.value}
        for f in fields(self):
            if f.name == "provider":
                continue
            value = getattr(self, f.name)
            if f.name == "projects":
                if value:
                    out["projects"] = list(value)
            elif f.name == "pending":
                if value:
                    out["pending"] = True
            elif value is not None:
                out[f.name] = value
        return out

    def describe(self) -> str:
        """One line for people: ``github octo/pkg release.yml (environment pypi)``."""
        if self.provider in (Provider.GITHUB, Provider.GITLAB):
            text = f"{self.provider.display_name} {self.repository} {self.workflow}"
            if self.environment:
                text += f" (environment {self.environment})"
        elif self.provider is Provider.GOOGLE:
            text = f"Google {self.email}" + (f" (subject {self.sub})" if self.sub else "")
        else:
            text = f"ActiveState {self.organization}/{self.project} (actor {self.actor})"
        return text


def _projects(value: object, *, where: str) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        items: list[object] = list(value.split("+"))
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise ConfigError(
            f"{where}: key 'projects' must be a list of project names",
            hint="e.g. projects = ['pkg', 'other']",
            anchor="invalid-publisher-description",
        )
    names: list[str] = []
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise ConfigError(
                f"{where}: key 'projects' must contain non-empty project names",
                hint="e.g. projects = ['pkg', 'other']",
                anchor="invalid-publisher-description",
            )
        names.append(item.strip())
    return tuple(names)


def _boolean(value: object, *, key: str, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ConfigError(
        f"{where}: key {key!r} must be true or false",
        hint=f"e.g. {key} = true",
        anchor="invalid-publisher-description",
    )


def _pairs(items: Sequence[str], *, where: str, separator_hint: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip().lower().replace("-", "_")
        if not sep or not key:
            raise ConfigError(
                f"{where}: expected KEY=VALUE, got {item.strip()!r}",
                hint=separator_hint,
                anchor="invalid-publisher-description",
            )
        if key in values:
            raise ConfigError(
                f"{where}: key {key!r} given twice",
                hint="give each key once",
                anchor="invalid-publisher-description",
            )
        values[key] = value.strip()
    return values


def parse_publisher_spec(text: str) -> Publisher:
    """Parse ``--publisher provider=github,repository=o/r,workflow=x.yml,projects=a+b``."""
    where = f"--publisher {text!r}"
    items = [part for part in text.split(",") if part.strip()]
    values = _pairs(
        items,
        where=where,
        separator_hint="write comma-separated KEY=VALUE pairs, e.g. "
        "provider=github,repository=octo/pkg,workflow=release.yml,projects=pkg",
    )
    return Publisher.from_mapping(values, where=where)


def parse_expect(
    pairs: Sequence[str], *, base: Publisher | None = None, provider: Provider | str | None = None
) -> Publisher:
    """Parse ``--expect KEY=VALUE`` (repeatable) into a publisher.

    ``base`` (e.g. the publisher declared in ``pyproject.toml``) supplies keys
    that are not given; ``provider`` (e.g. the token's) is used when neither
    ``pairs`` nor ``base`` name one.
    """
    where = "--expect"
    values: dict[str, Any] = base.to_mapping() if base is not None else {}
    given = _pairs(pairs, where=where, separator_hint="e.g. --expect environment=pypi")
    if "provider" in given and base is not None and given["provider"].lower() != str(base.provider):
        values = {}
    values.update(given)
    if "provider" not in values and provider is not None:
        values["provider"] = str(provider)
    return Publisher.from_mapping(values, where=where)


def load_declared_publisher(pyproject: Path) -> Publisher | None:
    """``[tool.trustpub.publisher]`` from ``pyproject`` (None when the file or table is absent)."""
    try:
        raw = pyproject.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise ConfigError(
            f"cannot read {pyproject}: {error.strerror or error}",
            hint="check the --pyproject path and its permissions",
            anchor="invalid-publisher-description",
        ) from None
    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(
            f"{pyproject} is not valid TOML: {error}",
            hint="fix the TOML syntax",
            anchor="invalid-publisher-description",
        ) from None
    tool = document.get("tool")
    section = tool.get("trustpub") if isinstance(tool, dict) else None
    table = section.get("publisher") if isinstance(section, dict) else None
    if table is None:
        return None
    where = f"{pyproject} [tool.trustpub.publisher]"
    if not isinstance(table, dict):
        raise ConfigError(
            f"{where} must be a table",
            hint='write [tool.trustpub.publisher] followed by KEY = "VALUE" lines',
            anchor="invalid-publisher-description",
        )
    return Publisher.from_mapping(table, where=where)


__all__ = [
    "CANONICAL_ISSUERS",
    "Provider",
    "Publisher",
    "canonical_issuer_for",
    "is_sandbox_issuer",
    "load_declared_publisher",
    "parse_expect",
    "parse_provider",
    "parse_publisher_spec",
    "provider_for_issuer",
]
