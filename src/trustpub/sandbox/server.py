"""Run the sandbox: bind the sockets, prepare the state directory, serve until a signal.

Two uvicorn servers share one asyncio loop: the index (HTTPS by default, with
a certificate from the sandbox's own CA) and the identity providers' plain-HTTP
Google metadata imitation on another loopback port.
The sockets are bound before anything else, so ``--port 0`` yields a known
URL and a port in use fails fast. When both servers listen, the ready line is
handed to ``on_ready`` (the CLI prints it and writes the ready file).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import os
import secrets
import signal
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio.to_thread
import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http import h11_impl

from trustpub.errors import SandboxError
from trustpub.sandbox.app import build_app
from trustpub.sandbox.config import SandboxSettings
from trustpub.sandbox.context import SandboxContext
from trustpub.sandbox.faults import DropSimulatedCuts
from trustpub.sandbox.identity import GITLAB_SELF_MANAGED, IdentityProviders
from trustpub.sandbox.responses import reason_phrase
from trustpub.sandbox.sigstore.trust import trust_config_path
from trustpub.sandbox.state import IndexState, TokenRecord
from trustpub.sandbox.tls import ensure_tls_files


@dataclass(frozen=True)
class ServeOptions:
    """Where and how to listen."""

    state_dir: Path
    host: str = "127.0.0.1"
    port: int = 0
    tls: bool = True
    allow_remote: bool = False


class _ReasonPhrases(dict[int, bytes]):
    """uvicorn's status-phrase table, overridden per response by ``reason_phrase``."""

    def __getitem__(self, status: int) -> bytes:
        custom = reason_phrase.get()
        if custom:
            return custom.encode("latin-1", "replace")
        return super().__getitem__(status)


def install_reason_phrases() -> None:
    """Let endpoints choose the reason phrase (PyPI's carrier of upload errors)."""
    if not isinstance(h11_impl.STATUS_PHRASES, _ReasonPhrases):
        h11_impl.STATUS_PHRASES = _ReasonPhrases(h11_impl.STATUS_PHRASES)


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback IP address."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening-ready TCP socket bound to ``host:port`` (port 0 = a free one)."""
    host = host.strip("[]")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise SandboxError(
            f"cannot resolve the host {host!r}: {error.strerror}",
            hint="give an IP address or a host name of this machine (default 127.0.0.1)",
        ) from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as error:
        sock.close()
        reason = error.strerror or str(error)
        raise SandboxError(
            f"cannot listen on {host}:{port}: {reason}",
            hint="choose another --port, or --port 0 to pick a free one",
        ) from None
    sock.setblocking(False)
    return sock


def _url_host(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    address = ipaddress.ip_address(host)
    if address.is_unspecified:  # listening everywhere (--allow-remote): name the loopback
        host = "127.0.0.1" if address.version == 4 else "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{port}"


def ensure_api_token(state_dir: Path) -> str:
    """The sandbox's user API token (``<state-dir>/api-token``), created once."""
    path = state_dir / "api-token"
    with contextlib.suppress(OSError):
        value = path.read_text(encoding="utf-8").strip()
        if value.startswith("pypi-"):
            return value
    value = "pypi-sandbox-user-" + secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    return value


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signal handling to :func:`run`."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _config(app: ASGIApp, **extra: Any) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        http="h11",
        lifespan="off",
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=3,
        **extra,
    )


def _nothing() -> None:
    return None


async def _warm_up() -> None:
    """Load now what the first upload would load on the event loop.

    The first ``anyio.to_thread`` call imports anyio's asyncio backend and starts its
    worker thread (about 0.1 s); done before the sandbox announces itself, the first
    upload costs no more than the others.
    """
    await anyio.to_thread.run_sync(_nothing)


async def _serve_all(
    pairs: list[tuple[_Server, socket.socket]], announce: Callable[[], None]
) -> None:
    loop = asyncio.get_running_loop()

    def stop() -> None:
        for server, _ in pairs:
            server.should_exit = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    tasks = [asyncio.create_task(server.serve(sockets=[sock])) for server, sock in pairs]
    try:
        while not all(server.started for server, _ in pairs):
            if any(task.done() for task in tasks):
                stop()
                break
            await asyncio.sleep(0.01)
        else:
            await _warm_up()
            announce()
        results = await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures or not all(server.started for server, _ in pairs):
        raise SandboxError(
            "the sandbox server failed to start",
            hint="rerun with --verbose to see the server's error",
        )


def run(
    options: ServeOptions, settings: SandboxSettings, on_ready: Callable[[dict[str, Any]], None]
) -> None:
    """Serve until SIGINT/SIGTERM; raise ``SandboxError`` when the sandbox cannot start."""
    if not options.allow_remote and not is_loopback(options.host):
        raise SandboxError(
            f"refusing to listen on the non-loopback host {options.host!r}",
            hint="the sandbox is for this machine; use 127.0.0.1, or pass --allow-remote",
        )
    try:
        options.state_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise SandboxError(
            f"cannot create the state directory {options.state_dir}: {error.strerror}",
            hint="choose a writable --state-dir",
        ) from None
    state_dir = options.state_dir.resolve()
    index_sock = bind_socket(options.host, options.port)
    meta_sock: socket.socket | None = None
    try:
        tls = ensure_tls_files(state_dir) if options.tls else None
        scheme = "https" if tls else "http"
        base_url = f"{scheme}://{_url_host(index_sock)}"
        meta_sock = bind_socket("127.0.0.1", 0)
        ctx = SandboxContext(
            state_dir=state_dir,
            base_url=base_url,
            audience=settings.audience,
            token_lifetime=settings.token_lifetime,
            metadata_host=_url_host(meta_sock),
            ca_cert=tls.ca_cert if tls else None,
        )
        state = IndexState(state_dir)
        api_token = ensure_api_token(state_dir)
        state.add_token(api_token, TokenRecord(kind="user", projects=None, expires=None))
        for publisher in settings.publishers:
            state.add_publisher(publisher)
        identity = IdentityProviders(ctx)
        app = build_app(ctx, settings, state, identity)

        install_reason_phrases()
        logging.getLogger("uvicorn.error").addFilter(DropSimulatedCuts())
        tls_args: dict[str, Any] = (
            {"ssl_certfile": str(tls.server_cert), "ssl_keyfile": str(tls.server_key)}
            if tls
            else {}
        )
        pairs = [
            (_Server(_config(app, **tls_args)), index_sock),
            (_Server(_config(identity.metadata_app())), meta_sock),
        ]
        ready = {
            "url": base_url,
            "upload_url": f"{base_url}/legacy/",
            "simple_url": f"{base_url}/simple/",
            "ca_cert": str(tls.ca_cert) if tls else None,
            "trust_config": str(trust_config_path(state_dir)),
            "audience": settings.audience,
            "metadata_host": ctx.metadata_host,
            "gitlab_custom_issuer": identity.issuer_url(GITLAB_SELF_MANAGED),
            "api_token_file": str(state_dir / "api-token"),
            "state_dir": str(state_dir),
            "pid": os.getpid(),
        }
        asyncio.run(_serve_all(pairs, lambda: on_ready(ready)))
    finally:
        index_sock.close()
        if meta_sock is not None:
            meta_sock.close()


def ready_line(ready: dict[str, Any]) -> str:
    """The one JSON line announcing a ready sandbox."""
    return json.dumps(ready, separators=(", ", ": "))


__all__ = [
    "ServeOptions",
    "bind_socket",
    "ensure_api_token",
    "install_reason_phrases",
    "is_loopback",
    "ready_line",
    "run",
]
