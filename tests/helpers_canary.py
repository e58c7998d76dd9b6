"""Canary secrets, leak detection, a scriptable fake index, and CLI runners for reliability tests.

* :func:`canary_jwt` / :func:`canary_api_token` make unique, recognisable tokens;
  :func:`leaks` finds any 12+ character piece of them in a text (also the
  ``Basic`` header encoding of an upload token), and :func:`assert_no_leaks`
  checks many texts at once, ignoring GitHub's ``::add-mask::`` lines.
* :class:`FakeIndex` is a tiny threaded HTTP server on 127.0.0.1 standing in for
  an index. Each route is a function of the recorded :class:`Seen` request that
  returns a :class:`Reply`; replies may echo the credentials they received (the
  hostile or broken index the canary tests need). Every request is recorded.
* :func:`run_cli` runs ``python -m trustpub ARGS`` as a real subprocess in a
  clean environment (:func:`clean_env`: no CI variables, no keyring).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

PIECE = 12
"""Length of the shortest recognisable piece of a secret."""

TESTS_DIR = Path(__file__).resolve().parent

_CI_PREFIXES = ("GITHUB_", "ACTIONS_", "GITLAB_", "CI_", "TRUSTPUB_", "RUNNER_", "PIP_")
_CI_NAMES = frozenset(
    {
        "CI",
        "GCE_METADATA_HOST",
        "GCE_METADATA_IP",
        "GOOGLE_SERVICE_ACCOUNT_NAME",
        "ACTIVESTATE_OIDC_TOKEN",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "REQUESTS_CA_BUNDLE",
        "PYTHON_KEYRING_BACKEND",
    }
)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def canary_jwt(
    *,
    audience: Any = "fake-audience",
    issuer: str = "https://token.actions.githubusercontent.com",
    lifetime: int = 600,
    **claims: Any,
) -> str:
    """A syntactically valid, unsigned-looking OIDC token, unique per call (random kid, jti, sig)."""
    now = int(time.time())
    header = {"alg": "RS256", "typ": "JWT", "kid": secrets.token_hex(12)}
    body: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": "repo:canary-org/canary-repo:ref:refs/tags/v1.0.0",
        "repository": "canary-org/canary-repo",
        "repository_owner": "canary-org",
        "repository_owner_id": "4242",
        "workflow_ref": "canary-org/canary-repo/.github/workflows/release.yml@refs/tags/v1.0.0",
        "job_workflow_ref": "canary-org/canary-repo/.github/workflows/release.yml@refs/tags/v1.0.0",
        "ref": "refs/tags/v1.0.0",
        "jti": secrets.token_hex(16),
        "iat": now - 5,
        "nbf": now - 5,
        "exp": now + lifetime,
    }
    body.update(claims)
    for key in [key for key, value in body.items() if value is None]:
        del body[key]
    signature = secrets.token_bytes(64)
    return ".".join(
        (_b64(json.dumps(header).encode()), _b64(json.dumps(body).encode()), _b64(signature))
    )


def canary_api_token() -> str:
    """A unique ``pypi-`` token (random body)."""
    return "pypi-" + _b64(b"canary" + secrets.token_bytes(48))


def basic_header(token: str) -> str:
    """The ``Authorization: Basic`` value an upload with ``token`` carries."""
    return base64.b64encode(f"__token__:{token}".encode()).decode()


_BASIC_PREFIX = 20
"""Base64 characters of ``__token__:pypi-`` (15 bytes) at the start of a Basic credential."""


def secret_forms(secret: str) -> list[str]:
    """The secret and its encodings a careless program might print (the Basic header)."""
    forms = [secret]
    if secret.startswith("pypi-"):
        forms.append(basic_header(secret))
    return forms


def encoded_forms(secret: str) -> list[str]:
    """The secret in every encoding a hostile index may echo it in (the common ``pypi-`` aside).

    base64 (standard and URL-safe) at each of the three byte offsets, hex,
    percent escapes of every byte, and decimal and hex HTML character references.
    """
    body = secret[5:] if secret.startswith("pypi-") else secret
    raw = body.encode()
    forms = [raw.hex(), raw.hex().upper()]
    forms.append("".join(f"%{byte:02X}" for byte in raw))
    forms.append("".join(f"&#{byte};" for byte in raw))
    forms.append("".join(f"&#x{byte:x};" for byte in raw))
    for offset in range(3):
        padded = b"x" * offset + raw
        # Drop the characters that also encode the padding bytes.
        skip = (offset * 4 + 2) // 3
        forms.append(base64.b64encode(padded).decode()[skip:].rstrip("="))
        forms.append(base64.urlsafe_b64encode(padded).decode()[skip:].rstrip("="))
    return forms


def encoded_leaks(text: str, secret: str) -> list[str]:
    """Every 16-character window of an encoded form of ``secret`` found in ``text``."""
    found: set[str] = set()
    width = 16
    shown = {text[i : i + width] for i in range(len(text) - width + 1)}
    for form in encoded_forms(secret):
        found.update(shown & {form[i : i + width] for i in range(len(form) - width + 1)})
    return sorted(found)


def leaks(text: str, secret: str) -> list[str]:
    """Every 12-character window of ``secret`` (or of its Basic form) found in ``text``."""
    found: list[str] = []
    for n, form in enumerate(secret_forms(secret)):
        # In the Basic form the first 20 characters encode "__token__:pypi-", which is no secret.
        first = 0 if n == 0 else max(0, _BASIC_PREFIX - PIECE + 1)
        windows = {form[i : i + PIECE] for i in range(first, len(form) - PIECE + 1)}
        found.extend(sorted({text[i : i + PIECE] for i in range(len(text) - PIECE + 1)} & windows))
    return found


MASK_LINE = re.compile(r"^::add-mask::.*$", re.MULTILINE)


def without_mask_lines(text: str) -> str:
    """The text minus GitHub's ``::add-mask::`` lines (the one place a value may appear)."""
    return MASK_LINE.sub("", text)


def assert_no_leaks(texts: Mapping[str, str], secrets_: Iterable[str]) -> None:
    """No text (mask lines aside) holds a recognisable piece of any secret."""
    values = [value for value in secrets_ if value]
    assert values, "no canary to look for"
    for where, text in texts.items():
        visible = without_mask_lines(text)
        for value in values:
            found = leaks(visible, value) + encoded_leaks(visible, value)
            assert not found, f"a piece of a canary secret leaked into {where}: {found[:3]}"


def files_text(root: Path) -> dict[str, str]:
    """Every regular file under ``root`` as text (binary files decoded leniently)."""
    texts: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            try:
                texts[str(path)] = path.read_bytes().decode("utf-8", errors="replace")
            except OSError:
                continue
    return texts


# ---------------------------------------------------------------------- the fake index


@dataclass(frozen=True)
class Seen:
    """One request the fake index received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def authorization(self) -> str:
        return self.headers.get("authorization", "")

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None


@dataclass(frozen=True)
class Reply:
    """What the fake index answers (``status=0``: drop the connection instead)."""

    status: int = 200
    body: bytes | str | Any = b""
    reason: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, self.headers.get("Content-Type", "text/plain")
        if isinstance(self.body, str):
            return self.body.encode(), self.headers.get("Content-Type", "text/plain")
        return json.dumps(self.body).encode(), "application/json"


Route = Callable[[Seen], Reply]


def reply(status: int = 200, body: Any = b"", **kwargs: Any) -> Route:
    """A route that always answers the same."""
    fixed = Reply(status, body, **kwargs)
    return lambda _seen: fixed


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int(handler.rfile.readline().strip().split(b";")[0] or b"0", 16)
            if size == 0:
                handler.rfile.readline()
                break
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
        return b"".join(chunks)
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length else b""


class _QuietServer(ThreadingHTTPServer):
    """A client that stops reading (a capped answer) is no error of the fake index's."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


class FakeIndex:
    """A scriptable plain-HTTP server on 127.0.0.1 (use as a context manager)."""

    def __init__(self, routes: Mapping[str, Route] | None = None) -> None:
        self.routes: dict[str, Route] = dict(routes or {})
        self.requests: list[Seen] = []
        self._lock = threading.Lock()
        index = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _handle(self) -> None:
                body = _read_body(self)
                path = self.path.split("?", 1)[0]
                seen = Seen(
                    self.command,
                    path,
                    {key.lower(): value for key, value in self.headers.items()},
                    body,
                )
                with index._lock:
                    index.requests.append(seen)
                route = index.routes.get(f"{self.command} {path}") or index.routes.get(path)
                answer = route(seen) if route else Reply(404, "Not Found")
                if answer.status == 0:  # drop the connection without an answer
                    self.close_connection = True
                    return
                data, content_type = answer.encoded()
                self.send_response(answer.status, answer.reason)
                headers = {"Content-Type": content_type, **dict(answer.headers)}
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Connection", "close")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                self.close_connection = True

            do_GET = do_POST = do_PUT = do_HEAD = _handle

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def upload_url(self) -> str:
        return f"{self.url}/legacy/"

    def seen(self, fragment: str = "", method: str | None = None) -> list[Seen]:
        with self._lock:
            return [
                s
                for s in self.requests
                if fragment in s.path and (method is None or s.method == method)
            ]

    def start(self) -> FakeIndex:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> FakeIndex:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextmanager
def fake_index(routes: Mapping[str, Route] | None = None) -> Iterator[FakeIndex]:
    with FakeIndex(routes) as index:
        yield index


def echo_credentials(status: int, *, json_body: bool = True) -> Route:
    """A route that answers ``status`` and repeats every credential it got, body and reason."""

    def route(seen: Seen) -> Reply:
        sent = seen.json()
        oidc = sent.get("token", "") if isinstance(sent, dict) else ""
        auth = seen.authorization
        decoded = ""
        if auth.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(auth[6:]).decode()
            except ValueError:
                decoded = ""
        echoed = " ".join(part for part in (oidc, auth, decoded) if part)
        body: Any = (
            {"message": f"bad {echoed}", "detail": echoed, "token": oidc, "errors": "x"}
            if json_body
            else f"<html><body><pre>refused {echoed}</pre></body></html>"
        )
        return Reply(status, body, reason=f"Refused {echoed}"[:2000])

    return route


# ---------------------------------------------------------------------- a switchable TCP proxy


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a target port; :meth:`down` takes the "index" offline.

    TLS passes through untouched, so a sandbox behind it keeps its certificate.
    While down, the port refuses connections; :meth:`up` listens on the same port again.
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._running = threading.Event()
        self._listener: socket.socket | None = None
        self.port = 0
        self.up()

    def up(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.1)
        self.port = int(listener.getsockname()[1])
        self._listener = listener
        self._running.set()
        thread = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept(self, listener: socket.socket) -> None:
        while self._running.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=10)
            except OSError:
                client.close()
                continue
            client.settimeout(None)
            upstream.settimeout(None)
            with self._lock:
                self._sockets.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                pump = threading.Thread(target=self._pump, args=(source, sink), daemon=True)
                self._threads.append(pump)
                pump.start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def down(self) -> None:
        """Stop listening and cut every open connection."""
        self._running.clear()
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(timeout=10)
        self._threads.clear()
        with self._lock:
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()

    close = down


# ---------------------------------------------------------------------- running the CLI


def clean_env(*layers: Mapping[str, str]) -> dict[str, str]:
    """This environment without CI identity, CA overrides or keyring, then ``layers``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(_CI_PREFIXES)
        and key not in _CI_NAMES
        and not key.endswith("_ID_TOKEN")
    }
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    env["PYTHONUNBUFFERED"] = "1"
    env["NO_COLOR"] = "1"
    for layer in layers:
        env.update(layer)
    return env


def github_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """``GITHUB_ACTIONS=true`` with output and step-summary files under ``tmp_path``."""
    out = tmp_path / "github_output"
    summary = tmp_path / "step_summary"
    out.touch()
    summary.touch()
    return {
        "GITHUB_ACTIONS": "true",
        "CI": "true",
        "GITHUB_OUTPUT": str(out),
        "GITHUB_STEP_SUMMARY": str(summary),
        **extra,
    }


def run_cli(
    args: list[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    timeout: float = 180,
    python_prefix: list[str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``python -m trustpub ARGS`` (or ``python_prefix + ARGS``) as a subprocess (no check)."""
    command = python_prefix or [sys.executable, "-m", "trustpub"]
    return subprocess.run(
        [*command, *args],
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )


# A child started from a background job of a non-interactive shell inherits SIGINT
# ignored, and Python then keeps it ignored. The tests that send signals start
# trustpub through this launcher, which gives it the dispositions they rely on
# (Python's default: KeyboardInterrupt on SIGINT, termination on SIGTERM), or
# deliberately the ignored one to prove that trustpub installs its own handlers.
_LAUNCHER = """
import signal, sys
disposition = sys.argv.pop(1)
if disposition == "default":
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
else:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
sys.argv[0] = "trustpub"
from trustpub.cli import main
main()
"""


def start_cli(
    args: list[str], *, env: Mapping[str, str], cwd: Path, signals: str = "default"
) -> subprocess.Popen[str]:
    """``trustpub ARGS`` as a child with known signal dispositions (``default`` or ``ignored``)."""
    return subprocess.Popen(
        [sys.executable, "-c", _LAUNCHER, signals, *args],
        env=dict(env),
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )


def json_document(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The one JSON document a ``--json`` run printed."""
    try:
        document = json.loads(result.stdout)
    except ValueError as error:
        raise AssertionError(
            f"stdout is not JSON ({error}):\n{result.stdout}\n--- stderr:\n{result.stderr}"
        ) from None
    assert isinstance(document, dict)
    return document


__all__ = [
    "PIECE",
    "TESTS_DIR",
    "FakeIndex",
    "Reply",
    "Route",
    "Seen",
    "TcpProxy",
    "assert_no_leaks",
    "basic_header",
    "canary_api_token",
    "canary_jwt",
    "clean_env",
    "echo_credentials",
    "encoded_forms",
    "encoded_leaks",
    "fake_index",
    "files_text",
    "github_env",
    "json_document",
    "leaks",
    "reply",
    "run_cli",
    "secret_forms",
    "start_cli",
    "without_mask_lines",
]
