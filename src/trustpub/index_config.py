"""Which index, with which user name and password: options, variables, the URL and ``.pypirc``.

The rules follow twine 7.0 (``twine/utils.py`` ``get_config`` and
``get_repository_from_config``, ``twine/auth.py`` ``Resolver``), so that a
pipeline switching from ``twine upload`` keeps its configuration:

* ``.pypirc`` (``--config-file``, default ``~/.pypirc``) is an INI file read
  without interpolation. ``[distutils] index-servers`` lists the sections that
  count (default ``pypi testpypi``); ``[server-login]`` gives a default user
  name and password to every section. A section's ``repository``,
  ``username`` and ``password`` apply; ``index_url`` is trustpub's own key
  (the simple index for lookups). ``pypi`` and ``testpypi`` need no file.
* A missing default file is no error; a missing ``--config-file`` is. A file
  that cannot be parsed is refused with its path and the line number (never
  the line itself: it may hold a password).
* Options and environment variables win over the file; credentials in the
  repository URL's user info count like options, and are refused where they
  disagree with ``--username``/``--password``.

Core code: returns data, raises :class:`~trustpub.errors.UsageError`, never prints.
"""

from __future__ import annotations

import configparser
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from trustpub._secret import Secret
from trustpub.errors import UsageError
from trustpub.repository import (
    IndexTarget,
    refuse_remote_http,
    resolve_repository,
)

DEFAULT_CONFIG = "~/.pypirc"
TOKEN_USERNAME = "__token__"  # noqa: S105 - the fixed user name for token uploads
KNOWN_NAMES = ("pypi", "testpypi")
_SECTION_KEYS = ("repository", "username", "password", "index_url")


@dataclass(frozen=True)
class PypircEntry:
    """One repository section of a ``.pypirc`` file (``[server-login]`` defaults applied)."""

    name: str
    repository: str | None
    username: str | None
    password: Secret | None
    index_url: str | None


@dataclass(frozen=True)
class Pypirc:
    """A parsed ``.pypirc``: the sections ``index-servers`` lists, and the others present."""

    path: Path
    entries: dict[str, PypircEntry]
    unlisted: frozenset[str] = frozenset()
    """Sections present in the file but not named by ``index-servers`` (twine ignores them)."""


@dataclass(frozen=True)
class IndexOptions:
    """What the user gave on the command line or in variables (None: not given)."""

    username: str | None = None
    password: Secret | None = None
    index_url: str | None = None
    config_file: Path | None = None
    """``--config-file``; None reads ``~/.pypirc`` when it exists."""


@dataclass(frozen=True)
class IndexChoice:
    """The resolved index and the user's credentials for it (before the keyring)."""

    target: IndexTarget
    username: str | None
    password: Secret | None
    password_from: str | None
    """Where the password came from, for messages: ``--password``, ``--token``,
    ``the repository URL`` or ``<path> [section]``."""
    config_path: Path | None = None
    """The ``.pypirc`` that was read (None: none)."""

    @property
    def login(self) -> str:
        """The user name uploads authenticate with (``__token__`` unless one was given)."""
        return self.username or TOKEN_USERNAME


def _config_error(path: Path, what: str, line: int | None = None) -> UsageError:
    where = f"{path}, line {line}" if line else str(path)
    return UsageError(
        f"cannot use the configuration file {where}: {what}",
        hint="fix the file (an INI file: [distutils] index-servers, then one [name] section "
        "each with repository, username, password), or point --config-file elsewhere",
        anchor="pypirc-invalid",
    )


def _error_line(error: configparser.Error) -> int | None:
    line = getattr(error, "lineno", None)
    if isinstance(line, int):
        return line
    errors = getattr(error, "errors", None)
    if isinstance(errors, list) and errors:
        return int(errors[0][0])
    return None


_ERROR_KINDS = (
    (configparser.MissingSectionHeaderError, "text before the first [section] header"),
    (configparser.DuplicateSectionError, "a [section] appears twice"),
    (configparser.DuplicateOptionError, "a key appears twice in one section"),
    (configparser.ParsingError, "a line that is neither 'key = value' nor a [section] header"),
)


def read_pypirc(path: Path, *, explicit: bool) -> Pypirc | None:
    """Parse ``path`` as twine does; None when the default file does not exist.

    Raises :class:`UsageError` naming the path (and line) for a missing
    ``--config-file``, an unreadable file or a malformed one.
    """
    parser = configparser.RawConfigParser()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        if not explicit:
            return None
        raise _config_error(path, "no such file") from None
    except OSError as error:
        raise _config_error(path, error.strerror or type(error).__name__) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _config_error(path, "not UTF-8 text") from None
    try:
        parser.read_string(text, source=str(path))
    except configparser.Error as error:
        # The parser's own message quotes the offending line, which may hold a password.
        kind = next((why for cls, why in _ERROR_KINDS if isinstance(error, cls)), "malformed")
        raise _config_error(path, kind, _error_line(error)) from None
    return _entries(parser, path)


def _entries(parser: configparser.RawConfigParser, path: Path) -> Pypirc:
    defaults = {
        key: parser.get("server-login", key, fallback=None) for key in ("username", "password")
    }
    listed = parser.get("distutils", "index-servers", fallback="pypi testpypi").split()
    entries: dict[str, PypircEntry] = {}
    for name in listed:
        values: dict[str, str | None] = dict.fromkeys(_SECTION_KEYS)
        values.update(defaults)
        if parser.has_section(name):
            values.update(
                {
                    key: parser.get(name, key)
                    for key in _SECTION_KEYS
                    if parser.has_option(name, key)
                }
            )
        password = values["password"]
        entries[name] = PypircEntry(
            name=name,
            repository=values["repository"] or None,
            username=values["username"] or None,
            password=Secret(password) if password else None,
            index_url=values["index_url"] or None,
        )
    unlisted = frozenset(parser.sections()) - set(listed) - {"distutils", "server-login"}
    return Pypirc(path=path, entries=entries, unlisted=unlisted)


def split_userinfo(url: str) -> tuple[str, str | None, Secret | None]:
    """``url`` without user info, and the user name and password it held (percent-decoded)."""
    if "://" not in url or "@" not in url:
        return url, None, None
    try:
        parts = urlsplit(url.strip())
    except ValueError:  # resolve_repository explains what is wrong with it
        return url, None, None
    if parts.username is None and parts.password is None:
        return url, None, None
    host = parts.netloc.rpartition("@")[2]
    clean = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    username = unquote(parts.username) if parts.username else None
    password = Secret(unquote(parts.password)) if parts.password else None
    return clean, username, password


def _disagree(what: str) -> UsageError:
    return UsageError(
        f"the {what} in the repository URL differs from --{what}",
        hint=f"give the {what} once: remove it from the URL or drop --{what} "
        f"(and TRUSTPUB_{what.upper()}/TWINE_{what.upper()})",
        anchor="conflicting-credentials",
    )


def _agree(option: str | None, url_value: str | None) -> str | None:
    if option is not None and url_value is not None and option != url_value:
        raise _disagree("username")
    return option if option is not None else url_value


def _same_password(option: Secret | None, url_value: Secret | None) -> Secret | None:
    if option is not None and url_value is not None and option != url_value:
        raise _disagree("password")
    return option if option is not None else url_value


def _section(name: str, options: IndexOptions) -> tuple[PypircEntry | None, Path | None]:
    """The ``.pypirc`` section for ``-r NAME`` (None for pypi/testpypi without one)."""
    explicit = options.config_file is not None
    path = (options.config_file or Path(DEFAULT_CONFIG)).expanduser()
    config = read_pypirc(path, explicit=explicit)
    entry = config.entries.get(name) if config else None
    if entry is not None:
        return entry, path
    if name in KNOWN_NAMES:
        return None, path if config else None
    if config is not None and name in config.unlisted:
        raise UsageError(
            f"repository {name!r} has a section in {path}, but index-servers does not list it",
            hint=f"add {name} to index-servers under [distutils] in {path} (twine reads only "
            "the sections listed there)",
            anchor="unknown-repository",
        )
    where = f"not in {path}" if config else f"and there is no {path}"
    raise UsageError(
        f"unknown repository {name!r} ({where})",
        hint="use 'pypi', 'testpypi', an upload URL such as https://upload.example.org/legacy/, "
        "or a section of .pypirc (--config-file)",
        anchor="unknown-repository",
    )


def _index_root(url: str) -> str:
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host or parts.username or parts.password:
        raise UsageError(
            f"invalid --index-url {url!r}",
            hint="give the simple index's http(s) URL without credentials, such as "
            "https://example.org/simple/",
            anchor="index-url-unknown",
        )
    refuse_remote_http(
        parts.scheme, host, what=f"the index URL on {host}", anchor="index-url-unknown"
    )
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return urlunsplit((parts.scheme, parts.netloc.lower(), path, "", ""))


def resolve_index(repository: str, options: IndexOptions) -> IndexChoice:
    """Resolve ``-r`` (name, URL or ``.pypirc`` section) and the user's credentials for it."""
    text = repository.strip()
    entry: PypircEntry | None = None
    config_path: Path | None = None
    if "://" not in text:
        entry, config_path = _section(text, options)
        if entry is not None and entry.repository:
            text = entry.repository
        elif entry is not None and text.lower() not in KNOWN_NAMES:
            raise _config_error(config_path or Path(DEFAULT_CONFIG), f"[{text}] has no repository")
    url, url_username, url_password = split_userinfo(text)
    target = resolve_repository(url)
    username = _agree(options.username, url_username)
    password = _same_password(options.password, url_password)
    password_from = (
        "--password"
        if options.password is not None
        else "the repository URL"
        if url_password is not None
        else None
    )
    if entry is not None:
        if username is None:
            username = entry.username
        if password is None and entry.password is not None:
            password, password_from = entry.password, f"{config_path} [{entry.name}]"
    index_url = options.index_url or (entry.index_url if entry else None)
    if index_url:
        target = replace(target, simple_root=_index_root(index_url))
    return IndexChoice(target, username, password, password_from, config_path)


def resolve_target(repository: str) -> IndexTarget:
    """Only where to publish (``trustpub claims``): ``~/.pypirc`` is read for section names only.

    URLs keep :func:`resolve_repository`'s rules (credentials in them are refused: nothing
    here would use them).
    """
    text = repository.strip()
    if "://" in text or text.lower() in KNOWN_NAMES:
        return resolve_repository(text)
    return resolve_index(text, IndexOptions()).target


__all__ = [
    "DEFAULT_CONFIG",
    "IndexChoice",
    "IndexOptions",
    "Pypirc",
    "PypircEntry",
    "read_pypirc",
    "resolve_index",
    "resolve_target",
    "split_userinfo",
]
