"""GitLab's ID-token variable convention and its ``id_tokens:`` snippet, in one dependency-free place.

A GitLab job exports each ``id_tokens:`` entry under a name the user picks;
clients (trustpub, ``id``, twine, uv) read ``<AUD>_ID_TOKEN``. The client,
the preflight checks and the sandbox's job environments all use this one
function, so they can never disagree about the name. The ``id_tokens:`` block
every hint prints (the client's errors, preflight, ``trustpub check``) is
written once, by :func:`id_tokens_yaml`.
"""

from __future__ import annotations

import re

_OUTSIDE = re.compile(r"[^A-Z0-9_]")


def token_env_name(audience: str) -> str:
    """The variable holding the GitLab ID token for ``audience``: ``pypi`` -> ``PYPI_ID_TOKEN``.

    Upper-cased; every character outside ``[A-Z0-9_]`` becomes ``_``, and so
    does a leading digit.
    """
    name = _OUTSIDE.sub("_", audience.upper())
    if name[:1].isdigit():
        name = "_" + name[1:]
    return f"{name}_ID_TOKEN"


def id_tokens_yaml(audience: str, *, job: str | None = None) -> str:
    """The ``id_tokens:`` block a publishing job needs for ``audience`` (under ``job:`` if given)."""
    block = f"id_tokens:\n  {token_env_name(audience)}:\n    aud: {audience}"
    if job is None:
        return block
    return f"{job}:\n" + "\n".join(f"  {line}" for line in block.splitlines())


__all__ = ["id_tokens_yaml", "token_env_name"]
