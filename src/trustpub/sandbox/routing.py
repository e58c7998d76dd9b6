"""How a sandbox endpoint is declared: ``@route(method, path)`` on the handler itself.

Each endpoint class (the index pages, the upload endpoint, the exchange, the
admin API, the identity providers, Sigstore) inherits :class:`Endpoints`, whose
:meth:`~Endpoints.routes` collects its handlers' declarations in the order they
are written, so a path is written once, beside the code that answers it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from starlette.routing import BaseRoute, Route

_H = TypeVar("_H", bound=Callable[..., Any])
_DECLARED = "_sandbox_routes"


def route(method: str, path: str) -> Callable[[_H], _H]:
    """Serve ``method path`` with the decorated handler (stack them for more paths)."""

    def declare(handler: _H) -> _H:
        # Decorators apply bottom-up: prepend, so the routes keep the order they are written in.
        setattr(handler, _DECLARED, [(method, path), *getattr(handler, _DECLARED, ())])
        return handler

    return declare


class Endpoints:
    """A group of sandbox handlers declared with :func:`route`."""

    def routes(self) -> list[BaseRoute]:
        """The declared routes, bound to this instance, in the order the handlers are written."""
        found: list[BaseRoute] = []
        for name, member in vars(type(self)).items():
            for method, path in getattr(member, _DECLARED, ()):
                found.append(Route(path, getattr(self, name), methods=[method]))
        return found


__all__ = ["Endpoints", "route"]
