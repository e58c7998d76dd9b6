"""What ``trustpub init`` reads from a checkout: project name, CI provider, repository, branch.

Git remotes come in several spellings; all of these are understood::

    https://github.com/octo/pkg.git           git@github.com:octo/pkg.git
    ssh://git@github.com/octo/pkg             https://gitlab.com/group/sub/pkg.git
    git@gitlab.com:group/sub/pkg.git          ssh://git@gitlab.example.com:2222/g/pkg.git

User info in a remote URL (``https://user:token@host/...``) is dropped on parsing and never
kept: it can hold a credential.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from trustpub.oidc.publishers import Provider

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

GITHUB_HOST = "github.com"
GITLAB_HOST = "gitlab.com"
_SCP_LIKE = re.compile(r"^(?:[^@/:]+@)?(?P<host>[^/:]+):(?!//)(?P<path>.+)$")
GIT_TIMEOUT = 10.0


@dataclass(frozen=True)
class Remote:
    """A git remote understood as a CI repository."""

    provider: Provider
    host: str
    repository: str
    """GitHub ``owner/name``; GitLab ``namespace/.../project``."""

    @property
    def issuer(self) -> str | None:
        """The OIDC issuer of a self-managed GitLab (None for gitlab.com and GitHub)."""
        if self.provider is Provider.GITLAB and self.host != GITLAB_HOST:
            return f"https://{self.host}"
        return None


def project_name(pyproject: Path) -> str | None:
    """``[project].name`` when readable; None otherwise (never raises)."""
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    project = data.get("project")
    name = project.get("name") if isinstance(project, dict) else None
    return name.strip() if isinstance(name, str) and name.strip() else None


def _host_and_path(url: str) -> tuple[str, str] | None:
    url = url.strip()
    if "://" in url:
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http", "ssh", "git", "git+ssh"):
            return None
        return (parts.hostname or "").lower(), parts.path
    match = _SCP_LIKE.match(url)
    if match is None:
        return None
    return match["host"].lower(), match["path"]


def parse_remote(url: str) -> Remote | None:
    """The provider and repository of a git remote URL; None when it is neither GitHub nor GitLab."""
    found = _host_and_path(url)
    if found is None:
        return None
    host, path = found
    path = path.strip("/")
    if path.endswith(".git"):
        path = path[:-4]
    segments = [s for s in path.split("/") if s]
    if len(segments) < 2 or any(s in (".", "..") for s in segments):
        return None
    if host in (GITHUB_HOST, f"www.{GITHUB_HOST}", f"ssh.{GITHUB_HOST}"):
        if len(segments) != 2:
            return None
        return Remote(Provider.GITHUB, GITHUB_HOST, "/".join(segments))
    if host == GITLAB_HOST or host.startswith("gitlab.") or ".gitlab." in host:
        return Remote(Provider.GITLAB, host, "/".join(segments))
    return None


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    out = done.stdout.strip()
    return out if done.returncode == 0 and out else None


def git_remote(root: Path, name: str = "origin") -> Remote | None:
    """The named remote, else the only remote, parsed; None without a usable one."""
    url = _git(root, "config", "--get", f"remote.{name}.url")
    if url is None:
        names = (_git(root, "remote") or "").split()
        if len(names) == 1:
            url = _git(root, "config", "--get", f"remote.{names[0]}.url")
    return parse_remote(url) if url else None


def default_branch(root: Path, remote: str = "origin") -> str:
    """The remote's default branch, else the checked-out branch, else ``main``."""
    head = _git(root, "symbolic-ref", "--quiet", f"refs/remotes/{remote}/HEAD")
    if head and head.startswith(f"refs/remotes/{remote}/"):
        return head[len(f"refs/remotes/{remote}/") :]
    current = _git(root, "symbolic-ref", "--quiet", "--short", "HEAD")
    return current or "main"


__all__ = ["Remote", "default_branch", "git_remote", "parse_remote", "project_name"]
