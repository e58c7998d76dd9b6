"""Run ``trustpub sandbox serve`` as a subprocess for tests (the sandbox fixtures).

Fixtures (defined in ``tests/conftest.py``; names are stable, other areas use them):

``sandbox``
    Session-scoped default sandbox: TLS with its own CA, audience
    ``trustpub-sandbox``, no publishers. Shared by many tests, so register
    publishers for project names unique to your test (``unique_name()``).
``sandbox_factory``
    Function-scoped factory: ``sandbox_factory("--latency-ms", "50", config=TOML_TEXT,
    publishers=["provider=github,..."], tls=True)`` starts a dedicated sandbox
    with extra ``serve`` options and stops it after the test.

A :class:`Sandbox` has ``url``, ``upload_url``, ``simple_url``, ``ca_cert`` (Path or
None), ``audience``, ``metadata_host``, ``state_dir`` (Path), ``api_token`` (the
user API token, str), ``pid``, ``ready`` (the ready line as a dict) and helpers:

* ``client()`` -> an ``httpx.Client`` with ``base_url=url`` trusting the CA (close it);
* ``env()`` -> ``{"SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"}`` for child processes;
* ``log()`` -> the request log (``GET /_sandbox/log``): dicts with ``method``, ``path``,
  ``status``, ``credentials`` (``[{"kind", "fingerprint"}]``), maybe ``fault``;
* ``add_publisher(spec_or_mapping=None, **fields)`` -> registers a publisher;
* ``clear_publishers()``;
* ``job(**description)`` -> ``{"job": id, "env": {...}}`` from ``POST /_sandbox/jobs``;
* ``oidc_token(provider="github", audience=None, **description)`` -> a real signed OIDC
  token for a new job (GitHub via the request-token endpoint, GitLab/ActiveState
  from the job env, Google via the metadata imitation);
* ``mint(oidc_token)`` -> the ``httpx.Response`` of ``POST /_/oidc/mint-token``;
* ``minted_token(**description)`` -> a ``pypi-`` token minted for a new job (asserts 200);
* ``upload(path, token, omit=(), content_type=..., **fields)`` -> the ``httpx.Response`` of a
  ``/legacy/`` upload with the standard form (``upload_fields(path)``), fields overridable.

``fingerprint(value)`` is the log's fingerprint of a credential (= ``Secret.fingerprint``).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import signal
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

STARTUP_TIMEOUT = 60.0
"""Seconds to wait for the ready file (generous: the test machine is shared)."""


def fingerprint(value: str) -> str:
    """The request log's identifier of a credential value."""
    return "sha256:" + hashlib.sha256(value.strip().encode()).hexdigest()[:8]


def unique_name(prefix: str = "pkg") -> str:
    """A project name no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def upload_fields(path: Path) -> dict[str, str]:
    """The upload form fields of a wheel or sdist named by the standard conventions."""
    filename = path.name
    if filename.endswith(".whl"):
        name, version = filename.split("-")[:2]
        filetype, pyversion = "bdist_wheel", "py3"
    else:
        stem = filename.removesuffix(".tar.gz").removesuffix(".zip")
        name, _, version = stem.rpartition("-")
        filetype, pyversion = "sdist", "source"
    return {
        ":action": "file_upload",
        "protocol_version": "1",
        "metadata_version": "2.1",
        "name": name,
        "version": version,
        "filetype": filetype,
        "pyversion": pyversion,
        "sha256_digest": file_sha256(path),
    }


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in chunks (big test files stay out of memory)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def serve_command(state_dir: Path, ready_file: Path, *args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "trustpub",
        "sandbox",
        "serve",
        "--state-dir",
        str(state_dir),
        "--port",
        "0",
        "--ready-file",
        str(ready_file),
        *args,
    ]


@dataclass
class Sandbox:
    """A running sandbox subprocess."""

    process: subprocess.Popen[bytes]
    state_dir: Path
    ready: dict[str, Any]
    stderr_path: Path
    _clients: list[httpx.Client] = field(default_factory=list)

    @property
    def url(self) -> str:
        return str(self.ready["url"])

    @property
    def upload_url(self) -> str:
        return str(self.ready["upload_url"])

    @property
    def simple_url(self) -> str:
        return str(self.ready["simple_url"])

    @property
    def ca_cert(self) -> Path | None:
        value = self.ready["ca_cert"]
        return Path(value) if value else None

    @property
    def audience(self) -> str:
        return str(self.ready["audience"])

    @property
    def metadata_host(self) -> str | None:
        value = self.ready.get("metadata_host")
        return str(value) if value else None

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def api_token(self) -> str:
        return Path(self.ready["api_token_file"]).read_text(encoding="utf-8").strip()

    def ssl_context(self) -> ssl.SSLContext | bool:
        if self.ca_cert is None:
            return True
        return ssl.create_default_context(cafile=str(self.ca_cert))

    def client(self, **kwargs: Any) -> httpx.Client:
        """An httpx client for this sandbox (closed at teardown if you forget)."""
        kwargs.setdefault("timeout", 60.0)
        client = httpx.Client(base_url=self.url, verify=self.ssl_context(), **kwargs)
        self._clients.append(client)
        return client

    def env(self) -> dict[str, str]:
        if self.ca_cert is None:
            return {}
        return {"SSL_CERT_FILE": str(self.ca_cert), "REQUESTS_CA_BUNDLE": str(self.ca_cert)}

    def log(self) -> list[dict[str, Any]]:
        with self.client() as client:
            response = client.get("/_sandbox/log")
            response.raise_for_status()
            entries: list[dict[str, Any]] = response.json()["requests"]
            return entries

    def hold_uploads(self, *, after: int = 0) -> None:
        """Hold every upload (after ``after`` more went through) until :meth:`release_uploads`."""
        with self.client() as client:
            client.post("/_sandbox/hold", json={"after": after}).raise_for_status()

    def wait_until_held(self, count: int) -> None:
        """Return once ``count`` uploads are held open by the sandbox (no polling, no sleep)."""
        with self.client(timeout=90) as client:
            response = client.get("/_sandbox/held", params={"count": count, "timeout": 60})
            assert response.status_code == 200, f"uploads held: {response.json()['held']}"

    def release_uploads(self) -> int:
        with self.client() as client:
            response = client.post("/_sandbox/release")
            response.raise_for_status()
            released: int = response.json()["released"]
            return released

    def add_publisher(
        self, spec: str | Mapping[str, Any] | None = None, **fields: Any
    ) -> dict[str, Any]:
        """Register a publisher from a ``--publisher`` spec, a mapping, or keyword fields."""
        mapping: dict[str, Any] = {}
        if isinstance(spec, str):
            for item in spec.split(","):
                key, _, value = item.partition("=")
                mapping[key.strip()] = value.strip()
            if "projects" in mapping:
                mapping["projects"] = mapping["projects"].split("+")
        elif spec is not None:
            mapping.update(spec)
        mapping.update(fields)
        with self.client() as client:
            response = client.post("/_sandbox/publishers", json=mapping)
            if response.status_code != 201:
                raise AssertionError(f"publisher refused: {response.text}")
            result: dict[str, Any] = response.json()
            return result

    def clear_publishers(self) -> None:
        with self.client() as client:
            client.delete("/_sandbox/publishers").raise_for_status()

    def job(self, **description: Any) -> dict[str, Any]:
        with self.client() as client:
            response = client.post("/_sandbox/jobs", json=description)
            if response.status_code != 200:
                raise AssertionError(f"job refused: {response.status_code} {response.text}")
            result: dict[str, Any] = response.json()
            return result

    def oidc_token(
        self, provider: str = "github", audience: str | None = None, **description: Any
    ) -> str:
        """A real OIDC token from the sandbox's issuer for a new job of ``provider``."""
        audience = audience or self.audience
        if provider in ("gitlab", "activestate"):
            description.setdefault("audience", audience)
        created = self.job(provider=provider, **description)
        env: dict[str, str] = created["env"]
        if provider == "github":
            with self.client() as client:
                url = env["ACTIONS_ID_TOKEN_REQUEST_URL"]
                url += ("&" if "?" in url else "?") + "audience=" + quote(audience, safe="")
                response = client.get(
                    url,
                    headers={"Authorization": f"bearer {env['ACTIONS_ID_TOKEN_REQUEST_TOKEN']}"},
                )
                response.raise_for_status()
                return str(response.json()["value"])
        if provider == "google":
            host = env["GCE_METADATA_HOST"]
            url = f"http://{host}/computeMetadata/v1/instance/service-accounts/default/identity"
            with httpx.Client(timeout=60.0) as client:
                response = client.get(
                    url,
                    params={"audience": audience, "format": "full"},
                    headers={"Metadata-Flavor": "Google"},
                )
                response.raise_for_status()
                return response.text.strip()
        for value in env.values():
            if value.count(".") == 2 and value.startswith("eyJ"):
                return value
        raise AssertionError(f"no OIDC token in the {provider} job env")

    def mint(self, oidc_token: str) -> httpx.Response:
        with self.client() as client:
            return client.post("/_/oidc/mint-token", json={"token": oidc_token})

    def minted_token(self, provider: str = "github", **description: Any) -> str:
        response = self.mint(self.oidc_token(provider, **description))
        assert response.status_code == 200, response.text
        return str(response.json()["token"])

    def upload(
        self,
        path: Path,
        token: str | None,
        *,
        omit: Sequence[str] = (),
        content_type: str = "application/octet-stream",
        **fields: str,
    ) -> httpx.Response:
        """POST ``path`` to ``/legacy/`` as twine would (Basic ``__token__``), fields overridable."""
        data = upload_fields(path)
        data.update(fields)
        for key in omit:
            data.pop(key, None)
        headers = {}
        if token is not None:
            basic = base64.b64encode(f"__token__:{token}".encode()).decode()
            headers["Authorization"] = f"Basic {basic}"
        with self.client() as client, path.open("rb") as handle:
            files = {} if "content" in omit else {"content": (path.name, handle, content_type)}
            return client.post("/legacy/", data=data, files=files, headers=headers)

    def stop(self) -> None:
        for client in self._clients:
            client.close()
        self._clients.clear()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_sandbox(
    state_dir: Path,
    *args: str,
    config: str | None = None,
    publishers: Sequence[str] = (),
    tls: bool = True,
    env: Mapping[str, str] | None = None,
) -> Sandbox:
    """Start ``trustpub sandbox serve`` and wait for its ready file."""
    state_dir.mkdir(parents=True, exist_ok=True)
    ready_file = state_dir / "ready.json"
    ready_file.unlink(missing_ok=True)
    extra = list(args)
    if config is not None:
        config_path = state_dir / "sandbox.toml"
        config_path.write_text(config, encoding="utf-8")
        extra += ["--config", str(config_path)]
    for spec in publishers:
        extra += ["--publisher", spec]
    if not tls:
        extra.append("--no-tls")
    stderr_path = state_dir / "serve.stderr"
    child_env = {**os.environ, **(env or {})}
    with stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            serve_command(state_dir, ready_file, *extra),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env=child_env,
        )
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not ready_file.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            process.wait()
            raise RuntimeError(
                f"the sandbox did not start (exit {process.returncode}): "
                + stderr_path.read_text(errors="replace")
            )
        time.sleep(0.05)
    ready = json.loads(ready_file.read_text(encoding="utf-8"))
    return Sandbox(process=process, state_dir=state_dir, ready=ready, stderr_path=stderr_path)


SandboxFactory = Callable[..., Sandbox]
"""The type of the ``sandbox_factory`` fixture."""


@contextlib.contextmanager
def running_sandbox(state_dir: Path, *args: str, **kwargs: Any) -> Iterator[Sandbox]:
    box = start_sandbox(state_dir, *args, **kwargs)
    try:
        yield box
    finally:
        box.stop()


__all__ = [
    "STARTUP_TIMEOUT",
    "Sandbox",
    "SandboxFactory",
    "file_sha256",
    "fingerprint",
    "running_sandbox",
    "serve_command",
    "start_sandbox",
    "unique_name",
    "upload_fields",
]
