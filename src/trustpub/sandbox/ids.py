"""Stable fake identifiers shared by the sandbox's publishers and its tokens.

Real PyPI resolves a GitHub owner to its numeric ``repository_owner_id`` and an
ActiveState actor to its ``actor_id`` when the publisher is registered. The
sandbox has no GitHub or ActiveState API, so both sides derive the same number
from the name: a publisher registered for ``octo`` and a token issued for a job
of ``octo`` agree unless a test overrides the claim (to imitate a deleted and
re-created account).
"""

from __future__ import annotations

import hashlib


def _stable_number(kind: str, name: str, digits: int) -> str:
    digest = hashlib.sha256(f"{kind}:{name.lower()}".encode()).hexdigest()
    return str(int(digest[:15], 16) % 10**digits).rjust(digits, "1")


def github_owner_id(owner: str) -> str:
    """The sandbox's ``repository_owner_id`` for a GitHub owner login (case-insensitive)."""
    return _stable_number("github-owner", owner, 8)


def github_repository_id(repository: str) -> str:
    """The sandbox's ``repository_id`` for ``owner/name``."""
    return _stable_number("github-repo", repository, 9)


def gitlab_project_id(project_path: str) -> str:
    """The sandbox's ``project_id`` for ``namespace/project``."""
    return _stable_number("gitlab-project", project_path, 8)


def gitlab_namespace_id(namespace: str) -> str:
    """The sandbox's ``namespace_id`` for a GitLab namespace."""
    return _stable_number("gitlab-namespace", namespace, 8)


def activestate_actor_id(actor: str) -> str:
    """The sandbox's ``actor_id`` (a UUID-shaped string) for an ActiveState user name."""
    digest = hashlib.sha256(f"activestate-actor:{actor.lower()}".encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def activestate_id(kind: str, name: str) -> str:
    """A UUID-shaped id for an ActiveState organization or project name."""
    digest = hashlib.sha256(f"activestate-{kind}:{name.lower()}".encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def google_subject(email: str) -> str:
    """The sandbox's numeric ``sub`` (the service account's unique id) for an email."""
    return "1" + _stable_number("google-sub", email, 20)
