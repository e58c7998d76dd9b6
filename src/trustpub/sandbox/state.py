"""The sandbox index's data: projects, files, publishers, tokens, the request log.

One :class:`IndexState` per server, guarded by a lock (requests run
concurrently). Projects and files are saved to ``<state-dir>/index.json``, the
distribution files to ``<state-dir>/files/<project>/<filename>`` and the
publishers to ``<state-dir>/publishers.json``, so a restarted sandbox still
serves what was published, to whom. Minted tokens and claimed
JTIs live in memory only, like PyPI's short-lived tokens.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from packaging.utils import canonicalize_name

from trustpub.errors import TrustpubError
from trustpub.oidc.publishers import Provider, Publisher
from trustpub.sandbox import ids

TokenKind = Literal["oidc", "user"]


def fingerprint(value: str) -> str:
    """The safe identifier of a credential, equal to ``Secret(value).fingerprint``."""
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()[:8]


@dataclass(frozen=True)
class FileRecord:
    """One stored distribution file."""

    filename: str
    version: str
    filetype: str
    size: int
    sha256: str
    blake2_256: str
    requires_python: str | None
    upload_time: float
    attestations: bool = False


_RECORD_FIELDS = tuple(item.name for item in fields(FileRecord))


def _record_fields(record: FileRecord) -> dict[str, Any]:
    """``asdict(record)`` without its deep copy (every field is a plain value)."""
    return {name: getattr(record, name) for name in _RECORD_FIELDS}


@dataclass
class Project:
    """One project (by normalized name) and its files."""

    name: str
    files: list[FileRecord] = field(default_factory=list)

    @property
    def normalized(self) -> str:
        return canonicalize_name(self.name)


@dataclass
class PublisherEntry:
    """A registered (possibly pending) publisher and the projects it may publish."""

    id: int
    publisher: Publisher
    projects: list[str]
    pending: bool


@dataclass
class TokenRecord:
    """A credential the upload endpoint accepts (stored by hash, never by value)."""

    kind: TokenKind
    projects: frozenset[str] | None
    """Normalized project names it may upload to; ``None`` = any (a user token)."""
    expires: float | None
    publisher_id: int | None = None
    burned: bool = False


def _pin_ids(publisher: Publisher) -> Publisher:
    """Record the ids PyPI resolves when a publisher is added (pending or not).

    PyPI asks GitHub for the owner's ``repository_owner_id`` and ActiveState for the
    actor's ``actor_id`` and keeps them; a token from a re-created owner or another
    actor of the same name is then refused. The sandbox resolves them from its own
    fake identities (:mod:`trustpub.sandbox.ids`), unless the publisher gives them.
    """
    owner = publisher.owner
    if publisher.provider is Provider.GITHUB and publisher.owner_id is None and owner:
        return replace(publisher, owner_id=ids.github_owner_id(owner))
    if (
        publisher.provider is Provider.ACTIVESTATE
        and publisher.actor_id is None
        and publisher.actor
    ):
        return replace(publisher, actor_id=ids.activestate_actor_id(publisher.actor))
    return publisher


class IndexState:
    """All mutable state of one sandbox index."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.files_dir = state_dir / "files"
        self.staging_dir = state_dir / "staging"
        self.files_dir.mkdir(parents=True, exist_ok=True)
        self.staging_dir.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()
        self.projects: dict[str, Project] = {}
        self.publishers: list[PublisherEntry] = []
        self._next_publisher = 1
        self._tokens: dict[str, TokenRecord] = {}
        self._jtis: dict[str, float] = {}
        self.log: list[dict[str, Any]] = []
        self._log_path = state_dir / "requests.jsonl"
        self._index_path = state_dir / "index.json"
        self._publishers_path = state_dir / "publishers.json"
        self._load()
        self._load_publishers()

    # -- persistence ---------------------------------------------------------

    def _load(self) -> None:
        try:
            data = json.loads(self._index_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        for item in data.get("projects", []):
            project = Project(name=item["name"])
            project.files = [FileRecord(**record) for record in item.get("files", [])]
            self.projects[project.normalized] = project

    def save(self) -> None:
        """Write projects and files to ``index.json`` (atomically)."""
        with self.lock:
            data = {
                "projects": [
                    {"name": p.name, "files": [_record_fields(f) for f in p.files]}
                    for p in self.projects.values()
                ]
            }
            tmp = self._index_path.with_name("index.json.tmp")
            # No indent: json's C encoder then does the work (with an indent it falls back to
            # pure Python). The file is rewritten on every upload, on the server's event loop.
            tmp.write_text(json.dumps(data), encoding="utf-8")
            tmp.replace(self._index_path)

    def _load_publishers(self) -> None:
        try:
            data = json.loads(self._publishers_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        for number, item in enumerate(data.get("publishers", []), start=1):
            try:
                publisher = Publisher.from_mapping(
                    item["publisher"], where=f"{self._publishers_path} #{number}"
                )
            except (TrustpubError, KeyError, TypeError):
                continue  # a damaged entry: the sandbox starts without it
            entry = self._add_entry(publisher)
            entry.pending = bool(item.get("pending", False))

    def save_publishers(self) -> None:
        """Write the registered publishers to ``publishers.json`` (atomically)."""
        with self.lock:
            data = {
                "publishers": [
                    {"publisher": entry.publisher.to_mapping(), "pending": entry.pending}
                    for entry in self.publishers
                ]
            }
            tmp = self._publishers_path.with_name("publishers.json.tmp")
            tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
            tmp.replace(self._publishers_path)

    # -- projects and files --------------------------------------------------

    def project(self, name: str) -> Project | None:
        with self.lock:
            return self.projects.get(canonicalize_name(name))

    def create_project(self, name: str) -> Project:
        with self.lock:
            key = canonicalize_name(name)
            if key not in self.projects:
                self.projects[key] = Project(name=name)
                self.save()
            return self.projects[key]

    def find_file(self, filename: str, blake2_256: str) -> FileRecord | None:
        """A stored file with this filename or this BLAKE2 digest (any project)."""
        with self.lock:
            for project in self.projects.values():
                for record in project.files:
                    if record.filename == filename or record.blake2_256 == blake2_256:
                        return record
            return None

    def file_path(self, project: str, filename: str) -> Path:
        return self.files_dir / canonicalize_name(project) / filename

    def add_file(self, project_name: str, record: FileRecord, staged: Path) -> None:
        """Move a staged upload into place and record it (creating the project)."""
        with self.lock:
            project = self.create_project(project_name)
            target = self.file_path(project.name, record.filename)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged, target)
            project.files.append(record)
            self.save()

    def staging_file(self) -> Path:
        return self.staging_dir / secrets.token_hex(8)

    # -- publishers ----------------------------------------------------------

    def _add_entry(self, publisher: Publisher) -> PublisherEntry:
        publisher = _pin_ids(publisher)
        same = replace(publisher, pending=False)
        for entry in self.publishers:
            if replace(entry.publisher, pending=False) == same:
                return entry  # already registered (perhaps pending once, reified since)
        entry = PublisherEntry(
            id=self._next_publisher,
            publisher=publisher,
            projects=list(publisher.projects),
            pending=bool(publisher.pending),
        )
        self._next_publisher += 1
        self.publishers.append(entry)
        return entry

    def add_publisher(self, publisher: Publisher) -> PublisherEntry:
        """Register a publisher (an equal one already registered is returned instead).

        On PyPI a (non-pending) publisher is added to a project that exists, so the
        projects a non-pending publisher names exist from the moment it is registered;
        a pending publisher creates its project at its first exchange.
        """
        with self.lock:
            entry = self._add_entry(publisher)
            if not entry.pending:
                for name in entry.projects:
                    self.create_project(name)
            self.save_publishers()
            return entry

    def remove_publisher(self, entry_id: int) -> None:
        with self.lock:
            self.publishers = [e for e in self.publishers if e.id != entry_id]
            self.save_publishers()

    def clear_publishers(self) -> None:
        with self.lock:
            self.publishers = []
            self.save_publishers()

    def publisher_entries(self, *, pending: bool) -> list[PublisherEntry]:
        with self.lock:
            return [e for e in self.publishers if e.pending == pending]

    def reify(self, entry: PublisherEntry) -> PublisherEntry:
        """Turn a pending publisher into a normal one (its project now exists)."""
        with self.lock:
            entry.pending = False
            self.save_publishers()
            return entry

    # -- tokens ----------------------------------------------------------------

    @staticmethod
    def _key(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def mint(self, record: TokenRecord) -> str:
        """Store a new random ``pypi-`` token and return its value."""
        value = "pypi-" + secrets.token_urlsafe(48)
        with self.lock:
            self._tokens[self._key(value)] = record
        return value

    def add_token(self, value: str, record: TokenRecord) -> None:
        with self.lock:
            self._tokens[self._key(value)] = record

    def token(self, value: str) -> TokenRecord | None:
        with self.lock:
            record = self._tokens.get(self._key(value))
            return None if record is None or record.burned else record

    def burn(self, value: str) -> bool:
        """Mark a token burned; ``False`` if it was unknown or already burned."""
        with self.lock:
            record = self._tokens.get(self._key(value))
            if record is None or record.burned:
                return False
            record.burned = True
            return True

    # -- JTIs ------------------------------------------------------------------

    def jti_used(self, key: str, now: float) -> bool:
        with self.lock:
            expiry = self._jtis.get(key)
            return expiry is not None and expiry > now

    def claim_jti(self, key: str, expires: float, now: float) -> bool:
        """Claim a JTI (SET NX); ``False`` if another exchange already claimed it."""
        with self.lock:
            if self.jti_used(key, now):
                return False
            self._jtis = {k: v for k, v in self._jtis.items() if v > now}
            self._jtis[key] = expires
            return True

    # -- request log -------------------------------------------------------------

    def record(self, entry: Mapping[str, Any]) -> None:
        line = dict(entry)
        with self.lock:
            self.log.append(line)
            with contextlib.suppress(OSError), self._log_path.open("a", encoding="utf-8") as out:
                out.write(json.dumps(line) + "\n")

    def log_entries(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.log)

    def iter_projects(self) -> Iterator[Project]:
        """The projects, sorted by normalized name (a snapshot)."""
        with self.lock:
            snapshot = sorted(self.projects.values(), key=lambda p: p.normalized)
        yield from snapshot


__all__ = [
    "FileRecord",
    "IndexState",
    "Project",
    "PublisherEntry",
    "TokenKind",
    "TokenRecord",
    "fingerprint",
]
