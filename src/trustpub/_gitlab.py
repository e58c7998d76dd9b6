"""GitLab's ID-token variable convention, in one dependency-free place.

A GitLab job exports each ``id_tokens:`` entry under a name the user picks;
clients (trustpub, ``id``, twine, uv) read ``<AUD>_ID_TOKEN``. The client,
the preflight checks and the sandbox's job environments all use this one
function, so they can never disagree about the name.
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


__all__ = ["token_env_name"]
