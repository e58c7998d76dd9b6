"""``trustpub sandbox demo``: a whole trusted-publishing release, rehearsed on this machine.

The demo

1. starts a sandbox index (``trustpub sandbox serve`` in a temporary state directory),
2. registers a pending GitHub publisher for a small example project,
3. builds that project's wheel and sdist itself (zipfile/tarfile; no build backend, no network),
4. creates a simulated GitHub Actions job and shows the identity its OIDC token carries,
5. publishes from that job with ``trustpub publish`` (a subprocess, exactly as in CI),
6. installs the package back from the sandbox with pip, and
7. imports it to prove it works,

then stops the server and removes its temporary files. Each step is reported
through a callback; no token is ever passed to it (the job environment holds
a GitHub request token, which is only handed to the ``trustpub publish``
subprocess).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import ssl
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trustpub.errors import SandboxError

DEMO_NAME = "hello-trustpub"
DEMO_MODULE = "hello_trustpub"
DEMO_VERSION = "1.0.0"
DEMO_REPOSITORY = "octo-org/hello-trustpub"
DEMO_WORKFLOW = "release.yml"
DEMO_ENVIRONMENT = "pypi"
DEMO_GREETING = "Hello from a trusted publisher!"

TOTAL_STEPS = 7

Say = Callable[[str], None]


@dataclass(frozen=True)
class SandboxInfo:
    """The ready line of ``trustpub sandbox serve``."""

    url: str
    upload_url: str
    simple_url: str
    ca_cert: str


# ---- building the example project ------------------------------------------------------


def _metadata(name: str, version: str) -> str:
    return (
        "Metadata-Version: 2.1\n"
        f"Name: {name}\n"
        f"Version: {version}\n"
        "Summary: A tiny package published by the trustpub sandbox demo.\n"
        "License: Apache-2.0\n"
        "Requires-Python: >=3.8\n"
        "Description-Content-Type: text/plain\n"
        "\n"
        "This package exists to show a trusted-publishing release end to end.\n"
    )


def _module_source(version: str) -> bytes:
    return (
        f'"""The trustpub demo package."""\n\n__version__ = "{version}"\n\n\n'
        f"def greet() -> str:\n    return {DEMO_GREETING!r}\n"
    ).encode()


def _record_entry(arcname: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{arcname},sha256={digest},{len(data)}"


def build_wheel(directory: Path, name: str = DEMO_NAME, version: str = DEMO_VERSION) -> Path:
    """Write a pure-Python wheel of the demo package into ``directory``."""
    stem = name.replace("-", "_")
    dist_info = f"{stem}-{version}.dist-info"
    files = [
        (f"{stem}/__init__.py", _module_source(version)),
        (f"{dist_info}/METADATA", _metadata(name, version).encode()),
        (
            f"{dist_info}/WHEEL",
            b"Wheel-Version: 1.0\nGenerator: trustpub-demo\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        ),
    ]
    record = [_record_entry(arcname, data) for arcname, data in files]
    record.append(f"{dist_info}/RECORD,,")
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{stem}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for arcname, data in files:
            archive.writestr(zipfile.ZipInfo(arcname, date_time=(2020, 1, 1, 0, 0, 0)), data)
        archive.writestr(
            zipfile.ZipInfo(f"{dist_info}/RECORD", date_time=(2020, 1, 1, 0, 0, 0)),
            "\n".join(record) + "\n",
        )
    return path


def build_sdist(directory: Path, name: str = DEMO_NAME, version: str = DEMO_VERSION) -> Path:
    """Write a PEP 625 ``.tar.gz`` sdist of the demo package into ``directory``."""
    stem = name.replace("-", "_")
    root = f"{stem}-{version}"
    pyproject = (
        "[build-system]\n"
        'requires = ["hatchling"]\n'
        'build-backend = "hatchling.build"\n\n'
        "[project]\n"
        f'name = "{name}"\n'
        f'version = "{version}"\n'
    )
    files = [
        ("PKG-INFO", _metadata(name, version).encode()),
        ("pyproject.toml", pyproject.encode()),
        (f"src/{stem}/__init__.py", _module_source(version)),
    ]
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{root}.tar.gz"
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as archive:
        for arcname, data in files:
            info = tarfile.TarInfo(f"{root}/{arcname}")
            info.size = len(data)
            info.mtime = 1_600_000_000
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(data))
    return path


# ---- the sandbox server ------------------------------------------------------------------


def _clean_env(base: Mapping[str, str]) -> dict[str, str]:
    """The parent environment without anything that would change how the children behave."""
    dropped_prefixes = ("GITHUB_", "ACTIONS_", "GITLAB_", "CI_", "TRUSTPUB_", "PIP_", "RUNNER_")
    dropped = {"CI", "GCE_METADATA_HOST", "GCE_METADATA_IP", "GOOGLE_SERVICE_ACCOUNT_NAME"}
    return {
        key: value
        for key, value in base.items()
        if key not in dropped and not key.startswith(dropped_prefixes)
    }


class SandboxProcess:
    """``trustpub sandbox serve`` as a child process, stopped by :meth:`stop`."""

    def __init__(self, workdir: Path, *, python: str, timeout: float = 60.0) -> None:
        self.workdir = workdir
        self.python = python
        self.timeout = timeout
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / "sandbox.log"

    def start(self) -> SandboxInfo:
        ready = self.workdir / "ready.json"
        state = self.workdir / "state"
        command = [
            self.python,
            "-m",
            "trustpub",
            "sandbox",
            "serve",
            "--port",
            "0",
            "--ready-file",
            str(ready),
            "--state-dir",
            str(state),
        ]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=_clean_env(os.environ),
                cwd=self.workdir,
            )
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if ready.is_file() and ready.stat().st_size:
                try:
                    data = json.loads(ready.read_text(encoding="utf-8"))
                except json.JSONDecodeError:
                    data = None
                if isinstance(data, dict):
                    return SandboxInfo(
                        url=str(data["url"]).rstrip("/"),
                        upload_url=str(data["upload_url"]),
                        simple_url=str(data["simple_url"]),
                        ca_cert=str(data["ca_cert"]),
                    )
            if self.process.poll() is not None:
                raise SandboxError(
                    f"the sandbox server exited with status {self.process.returncode} before it was ready",
                    hint=f"its output: {self.tail()}",
                )
            time.sleep(0.1)
        raise SandboxError(
            f"the sandbox server was not ready after {self.timeout:.0f} s",
            hint=f"its output: {self.tail()}",
        )

    def tail(self, limit: int = 600) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no output)"
        text = " ".join(text.split())
        return text[-limit:] or "(no output)"

    def stop(self) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


# ---- talking to the sandbox ------------------------------------------------------------


def _tls(info: SandboxInfo) -> ssl.SSLContext:
    """Trust exactly the sandbox's private CA."""
    return ssl.create_default_context(cafile=info.ca_cert)


def _post_json(info: SandboxInfo, path: str, body: dict[str, Any]) -> dict[str, Any]:
    import httpx

    url = f"{info.url}{path}"
    try:
        with httpx.Client(verify=_tls(info), timeout=30.0, trust_env=False) as client:
            response = client.post(url, json=body)
    except httpx.HTTPError as error:
        raise SandboxError(
            f"could not reach the sandbox at {url}: {error}",
            hint="the sandbox server may have stopped; rerun the demo",
        ) from None
    if response.status_code >= 300:
        raise SandboxError(
            f"the sandbox refused POST {path}: HTTP {response.status_code} {response.text[:300]}",
            hint="this is a bug in the demo or the sandbox; please report it",
        )
    data = response.json()
    if not isinstance(data, dict):
        raise SandboxError(f"unexpected answer from POST {path}", hint="report this bug")
    return data


def _request_log(info: SandboxInfo) -> list[dict[str, Any]]:
    import httpx

    try:
        with httpx.Client(verify=_tls(info), timeout=30.0, trust_env=False) as client:
            response = client.get(f"{info.url}/_sandbox/log")
    except httpx.HTTPError as error:
        raise SandboxError(
            f"could not read the sandbox's request log: {error}", hint="rerun the demo"
        ) from None
    entries = response.json().get("requests") if response.status_code == 200 else None
    if not isinstance(entries, list):
        raise SandboxError("the sandbox's request log is unreadable", hint="report this bug")
    return [entry for entry in entries if isinstance(entry, dict)]


def _run(
    command: list[str], *, env: Mapping[str, str], cwd: Path, timeout: float = 300.0
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def _visible(text: str, limit: int = 1500) -> str:
    """Child output safe to show: workflow commands (``::add-mask::`` ...) removed."""
    lines = [line for line in text.splitlines() if not line.startswith("::")]
    shown = "\n".join(lines).strip()
    return shown[-limit:]


# ---- the demo ----------------------------------------------------------------------------


def run_demo(say: Say, *, python: str | None = None, keep: bool = False) -> Path | None:
    """Run every step; raise :class:`SandboxError` on the first failure.

    Returns the kept work directory with ``keep=True``, else None (everything removed).
    """
    python = python or sys.executable
    workdir = Path(tempfile.mkdtemp(prefix="trustpub-demo-"))
    server = SandboxProcess(workdir, python=python)
    try:
        _steps(say, server, workdir, python)
    finally:
        server.stop()
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return workdir if keep else None


def _step(say: Say, number: int, title: str) -> None:
    say(f"Step {number}/{TOTAL_STEPS}: {title}")


@dataclass
class _Demo:
    """What the steps share: the output, the running sandbox and the work directory."""

    say: Say
    python: str
    workdir: Path
    info: SandboxInfo | None = None

    @property
    def sandbox(self) -> SandboxInfo:
        if self.info is None:  # pragma: no cover - the steps run in order
            raise SandboxError("the sandbox is not started", hint="report this bug")
        return self.info

    @property
    def project(self) -> Path:
        return self.workdir / "project"


def _steps(say: Say, server: SandboxProcess, workdir: Path, python: str) -> None:
    demo = _Demo(say, python, workdir)
    _step(say, 1, "start a local sandbox index (TLS, private CA)")
    demo.info = server.start()
    say(f"  index:  {demo.info.url}")
    say(f"  upload: {demo.info.upload_url}")
    _step(say, 2, f"register a pending GitHub publisher for the new project {DEMO_NAME!r}")
    _register_publisher(demo)
    _step(say, 3, f"build {DEMO_NAME} {DEMO_VERSION} (a wheel and an sdist)")
    _build(demo)
    _step(say, 4, "start a simulated GitHub Actions job with `id-token: write`")
    env, publish_command = _start_job(demo)
    _dry_run(demo, env, publish_command)
    _step(say, 5, "publish from the job: trustpub publish dist/* (OIDC -> mint -> upload -> burn)")
    _publish(demo, env, publish_command)
    _step(say, 6, "install the package back from the sandbox with pip")
    target = _pip_install(demo)
    _step(say, 7, f"import {DEMO_MODULE} and call it")
    _import(demo, target)


def _register_publisher(demo: _Demo) -> None:
    publisher = {
        "provider": "github",
        "repository": DEMO_REPOSITORY,
        "workflow": DEMO_WORKFLOW,
        "environment": DEMO_ENVIRONMENT,
        "projects": [DEMO_NAME],
        "pending": True,
    }
    _post_json(demo.sandbox, "/_sandbox/publishers", publisher)
    demo.say(
        f"  repository={DEMO_REPOSITORY} workflow={DEMO_WORKFLOW} environment={DEMO_ENVIRONMENT}"
    )


def _build(demo: _Demo) -> None:
    dist = demo.project / "dist"
    for path in (build_wheel(dist), build_sdist(dist)):
        demo.say(f"  {path.name} ({path.stat().st_size} bytes)")


def _start_job(demo: _Demo) -> tuple[dict[str, str], list[str]]:
    """Create the simulated job; return its environment and the publish command."""
    info = demo.sandbox
    job = _post_json(
        info,
        "/_sandbox/jobs",
        {
            "provider": "github",
            "repository": DEMO_REPOSITORY,
            "workflow": DEMO_WORKFLOW,
            "environment": DEMO_ENVIRONMENT,
            "ref": f"refs/tags/v{DEMO_VERSION}",
            "event": "release",
        },
    )
    job_env = job.get("env")
    if not isinstance(job_env, dict):
        raise SandboxError("the sandbox returned no job environment", hint="report this bug")
    env = _clean_env(os.environ)
    env.update({str(key): str(value) for key, value in job_env.items()})
    env["SSL_CERT_FILE"] = info.ca_cert
    env["TRUSTPUB_KEYRING"] = "false"
    publish_command = [
        demo.python,
        "-m",
        "trustpub",
        "publish",
        "dist/*",
        "--repository",
        info.upload_url,
        "--trusted-publishing",
        "always",
        "--json",
    ]
    return env, publish_command


def _dry_run(demo: _Demo, env: dict[str, str], publish_command: list[str]) -> None:
    dry = _run([*publish_command, "--dry-run"], env=env, cwd=demo.project)
    dry_doc = _json_document(dry, "the dry run")
    demo.say(
        "  the job's OIDC token carries these claims (what PyPI matches the publisher against):"
    )
    claims = dry_doc.get("claims") or {}
    for name in ("repository", "repository_owner", "job_workflow_ref", "ref", "environment"):
        if name in claims:
            demo.say(f"    {name} = {claims[name]}")
    demo.say("  (dry run: identity, claims and files checked; nothing minted or uploaded)")


def _publish(demo: _Demo, env: dict[str, str], publish_command: list[str]) -> None:
    result = _run(publish_command, env=env, cwd=demo.project)
    document = _json_document(result, "trustpub publish")
    for entry in document.get("files", []):
        attested = f" (attestation: {entry['attestation']})" if entry.get("attestation") else ""
        demo.say(f"  {entry.get('filename')}: {entry.get('status')}{attested}")
    if document.get("release_url"):
        demo.say(f"  release: {document['release_url']}")
    if document.get("attestation_identity"):
        demo.say(f"  PEP 740 attestations signed by {document['attestation_identity']}")
        first = (document.get("files") or [{}])[0].get("filename")
        demo.say(
            "  provenance (as PyPI serves it): "
            f"{demo.sandbox.url}/integrity/{_normalized(DEMO_NAME)}/{DEMO_VERSION}/{first}/provenance"
        )
    log = _request_log(demo.sandbox)
    mints = [e for e in log if e.get("path") == "/_/oidc/mint-token" and e.get("status") == 200]
    burns = [e for e in log if e.get("path") == "/_/oidc/burn-token" and e.get("status") == 200]
    if not mints or len(burns) != len(mints):
        raise SandboxError(
            f"expected every minted token to be burned (minted {len(mints)}, burned {len(burns)})",
            hint="rerun with --keep and inspect the sandbox's request log",
        )
    demo.say(
        f"  the index minted {len(mints)} short-lived upload token(s); all were burned after "
        "the upload (token values are never shown)"
    )


def _normalized(name: str) -> str:
    from packaging.utils import canonicalize_name

    return str(canonicalize_name(name))


def _pip_install(demo: _Demo) -> Path:
    info, python = demo.sandbox, demo.python
    target = demo.workdir / "installed"
    pip_env = _clean_env(os.environ)
    pip_env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    pip_env["PIP_CONFIG_FILE"] = os.devnull  # only the sandbox: no site pip.conf
    for name in ("CURL_CA_BUNDLE", "REQUESTS_CA_BUNDLE"):
        pip_env.pop(name, None)
    pip = _run(
        [
            python,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-cache-dir",
            "--index-url",
            info.simple_url,
            "--cert",
            info.ca_cert,
            "--target",
            str(target),
            f"{DEMO_NAME}=={DEMO_VERSION}",
        ],
        env=pip_env,
        cwd=demo.workdir,
    )
    if pip.returncode != 0:
        output = _visible(pip.stderr or pip.stdout)
        hint = output or "rerun with --keep to inspect"
        if "No module named pip" in output:
            hint = f"this Python has no pip: run `{python} -m ensurepip` and retry"
        raise SandboxError(
            f"pip could not install {DEMO_NAME} from the sandbox (exit {pip.returncode})",
            hint=hint,
        )
    demo.say(f"  installed {DEMO_NAME}=={DEMO_VERSION} into a temporary directory")
    return target


def _import(demo: _Demo, target: Path) -> None:
    run_env = _clean_env(os.environ)
    run_env["PYTHONPATH"] = str(target)
    check = _run(
        [demo.python, "-c", f"import {DEMO_MODULE} as m; print(m.greet()); print(m.__version__)"],
        env=run_env,
        cwd=demo.workdir,
    )
    lines = check.stdout.split()
    if check.returncode != 0 or DEMO_VERSION not in lines:
        raise SandboxError(
            f"importing {DEMO_MODULE} failed (exit {check.returncode})",
            hint=_visible(check.stderr) or "rerun with --keep to inspect",
        )
    demo.say(f"  {DEMO_MODULE}.greet() -> {check.stdout.splitlines()[0]!r}")


def _json_document(result: subprocess.CompletedProcess[str], what: str) -> dict[str, Any]:
    try:
        document = json.loads(result.stdout)
    except json.JSONDecodeError:
        document = None
    if not isinstance(document, dict):
        raise SandboxError(
            f"{what} failed (exit {result.returncode}) without a JSON result",
            hint=_visible(result.stderr) or "rerun with --keep to inspect",
        )
    if result.returncode != 0 or not document.get("ok"):
        error = document.get("error") or {}
        raise SandboxError(
            f"{what} failed (exit {result.returncode}): {error.get('message', 'unknown error')}",
            hint=str(error.get("hint") or _visible(result.stderr)),
        )
    return document


__all__ = [
    "DEMO_NAME",
    "DEMO_VERSION",
    "SandboxInfo",
    "SandboxProcess",
    "build_sdist",
    "build_wheel",
    "run_demo",
]
