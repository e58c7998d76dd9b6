"""End to end: a real ``trustpub publish`` subprocess in a fake CI job, against the sandbox over TLS.

Each test builds a small release, creates a job with ``trustpub sandbox env``
(through ``helpers_env.sandbox_env``), runs ``python -m trustpub publish`` in
that environment, then checks the index (the sandbox's ``/simple/`` page and
request log) and installs the result with pip.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from helpers_e2e import (
    child_env,
    json_result,
    masked_values,
    pip_install,
    run_publish,
    secret_pieces,
    without_mask_lines,
)

from fixtures_dists import make_release, make_sdist, make_wheel
from helpers_canary import start_cli
from helpers_env import sandbox_env
from helpers_sandbox import Sandbox, unique_name

if TYPE_CHECKING:
    from helpers_pypiserver import PypiServer

pytestmark = pytest.mark.e2e

SandboxFactory = Callable[..., Sandbox]

PYPISERVER_TOKEN = "pypi-AgEIcHlwaS5vcmcCJGUyZS1wdWJsaXNoLXRva2VuLWNhbmFyeQ"


@pytest.fixture
def pypiserver_token(tmp_path: Path) -> Iterator[tuple[PypiServer, str]]:
    """pypiserver with uploads protected by ``__token__`` / :data:`PYPISERVER_TOKEN`."""
    with warnings.catch_warnings():
        # passlib (writes the htpasswd file) imports the deprecated ``crypt`` module.
        warnings.simplefilter("ignore", DeprecationWarning)
        from helpers_pypiserver import start_pypiserver

    with start_pypiserver(tmp_path / "pypiserver", PYPISERVER_TOKEN, legacy_path=True) as server:
        yield server, PYPISERVER_TOKEN


def module_name(project: str) -> str:
    return project.replace("-", "_")


def github_job(sandbox: Sandbox, project: str, **job: Any) -> dict[str, str]:
    """A GitHub job whose publisher (pending, for ``project``) is registered."""
    repository = f"octo-org/{project}"
    sandbox.add_publisher(
        provider="github",
        repository=repository,
        workflow="release.yml",
        projects=[project],
        pending=True,
    )
    return sandbox_env(sandbox, "github", repository=repository, workflow="release.yml", **job)


def provider_job(sandbox: Sandbox, provider: str, project: str) -> dict[str, str]:
    """Register a pending publisher for ``project`` and return a matching job's environment."""
    if provider == "github":
        return github_job(sandbox, project)
    if provider == "gitlab":
        repository = f"example-group/{project}"
        sandbox.add_publisher(
            provider="gitlab",
            repository=repository,
            workflow=".gitlab-ci.yml",
            projects=[project],
            pending=True,
        )
        return sandbox_env(
            sandbox,
            "gitlab",
            repository=repository,
            workflow=".gitlab-ci.yml",
            audience=sandbox.audience,
        )
    if provider == "google":
        email = f"{project}@example-project.iam.gserviceaccount.com"
        sandbox.add_publisher(provider="google", email=email, projects=[project], pending=True)
        return sandbox_env(sandbox, "google", email=email)
    assert provider == "activestate"
    sandbox.add_publisher(
        provider="activestate",
        organization=f"org-{project}",
        project=project,
        actor="example-user",
        projects=[project],
        pending=True,
    )
    return sandbox_env(
        sandbox,
        "activestate",
        organization=f"org-{project}",
        project=project,
        actor="example-user",
        audience=sandbox.audience,
    )


def simple_page(sandbox: Sandbox, project: str) -> str:
    with sandbox.client() as client:
        response = client.get(f"/simple/{project}/")
        assert response.status_code == 200, response.text
        return response.text


def log_since(sandbox: Sandbox, start: int) -> list[dict[str, Any]]:
    return sandbox.log()[start:]


def paths(entries: list[dict[str, Any]], method: str, fragment: str) -> list[dict[str, Any]]:
    return [e for e in entries if e["method"] == method and fragment in e["path"]]


@pytest.mark.parametrize("provider", ["github", "gitlab", "google", "activestate"])
def test_publish_with_each_provider(sandbox: Sandbox, tmp_path: Path, provider: str) -> None:
    project = unique_name(provider)
    files = make_release(tmp_path / "dist", project, "1.0.0")
    job_env = provider_job(sandbox, provider, project)
    start = len(sandbox.log())

    result = run_publish(
        ["dist/*", "-r", sandbox.upload_url, "--trusted-publishing", "always", "--json"],
        env=child_env(sandbox.env(), job_env),
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stderr
    document = json_result(result)
    assert document["ok"] is True
    assert document["trusted_publishing"] is True
    assert document["provider"] == provider
    assert document["error"] is None
    assert sorted(entry["filename"] for entry in document["files"]) == sorted(
        path.name for path in files
    )
    assert {entry["status"] for entry in document["files"]} == {"uploaded"}
    page = simple_page(sandbox, project)
    for path in files:
        assert path.name in page
    entries = log_since(sandbox, start)
    assert len(paths(entries, "POST", "/_/oidc/mint-token")) == 1
    assert len(paths(entries, "POST", "/_/oidc/burn-token")) == 1
    uploads = paths(entries, "POST", "/legacy/")
    assert [entry["status"] for entry in uploads] == [200, 200]

    installed = pip_install(
        sandbox.simple_url, f"{project}==1.0.0", tmp_path / "target", cert=sandbox.ca_cert
    )
    assert installed.returncode == 0, installed.stderr
    assert (tmp_path / "target" / module_name(project) / "__init__.py").is_file()


def test_github_outputs_summary_and_no_token_leak(sandbox: Sandbox, tmp_path: Path) -> None:
    """The canary: at -vv nothing but the ::add-mask:: lines carries a token."""
    project = unique_name("gh")
    make_release(tmp_path / "dist", project, "2.0.0")
    job_env = github_job(sandbox, project, environment="pypi")

    result = run_publish(
        ["-vv", "-r", sandbox.upload_url],
        env=child_env(sandbox.env(), job_env),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr

    masked = masked_values(result.stdout)
    # The OIDC token and the minted upload token, each masked before use.
    assert len(masked) >= 2
    assert any(value.startswith("eyJ") for value in masked)
    assert any(value.startswith("pypi-") for value in masked)
    outputs = Path(job_env["GITHUB_OUTPUT"]).read_text(encoding="utf-8")
    summary = Path(job_env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    visible = {
        "stdout": without_mask_lines(result.stdout),
        "stderr": result.stderr,
        "GITHUB_OUTPUT": outputs,
        "GITHUB_STEP_SUMMARY": summary,
    }
    secrets = [*masked, job_env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"]]
    for secret in secrets:
        for piece in secret_pieces(secret):
            for where, text in visible.items():
                assert piece not in text, f"a token piece leaked into {where}"
    # The masked values are the credentials the sandbox saw.
    from helpers_sandbox import fingerprint

    seen = {
        credential["fingerprint"]
        for entry in sandbox.log()
        for credential in entry.get("credentials", [])
        if credential["kind"] in ("oidc", "sigstore-oidc", "api-token")
    }
    assert {fingerprint(value) for value in masked} <= seen

    # GitHub outputs (names are the action's contract) and the step summary.
    assert "trusted-publishing=true" in outputs
    assert f"release-url={sandbox.url}/project/{project}/2.0.0/" in outputs
    assert f"project-url={sandbox.url}/project/{project}/" in outputs
    assert f"{module_name(project)}-2.0.0-py3-none-any.whl" in outputs
    assert "trustpub publish: succeeded" in summary
    assert f"{module_name(project)}-2.0.0.tar.gz" in summary
    assert "::group::" in result.stdout
    assert "::endgroup::" in result.stdout
    # The links are true: the sandbox serves them (as PyPI does), listing the release's files.
    with sandbox.client() as client:
        release = client.get(f"/project/{project}/2.0.0/")
        assert client.get(f"/project/{project}/").status_code == 200
        assert client.get(f"/project/{project}/9.9.9/").status_code == 404
    assert release.status_code == 200
    assert f"{module_name(project)}-2.0.0.tar.gz" in release.text


def test_dry_run_mints_nothing(sandbox: Sandbox, tmp_path: Path) -> None:
    project = unique_name("dry")
    make_release(tmp_path / "dist", project, "1.0.0")
    job_env = github_job(sandbox, project)
    start = len(sandbox.log())

    result = run_publish(
        ["--dry-run", "--json", "-r", sandbox.upload_url],
        env=child_env(sandbox.env(), job_env),
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stderr
    document = json_result(result)
    assert document["ok"] is True
    assert document["dry_run"] is True
    assert {entry["status"] for entry in document["files"]} == {"would-upload"}
    assert document["claims"]["repository"] == f"octo-org/{project}"
    entries = log_since(sandbox, start)
    assert paths(entries, "GET", "/_/oidc/audience")
    assert not paths(entries, "POST", "/_/oidc/mint-token")
    assert not paths(entries, "POST", "/legacy/")
    assert not paths(entries, "POST", "/_/oidc/burn-token")
    with sandbox.client() as client:
        assert client.get(f"/simple/{project}/").status_code == 404


def test_declared_publisher_mismatch_stops_before_minting(sandbox: Sandbox, tmp_path: Path) -> None:
    project = unique_name("expect")
    make_release(tmp_path / "dist", project, "1.0.0")
    job_env = github_job(sandbox, project)
    (tmp_path / "pyproject.toml").write_text(
        "[tool.trustpub.publisher]\n"
        'provider = "github"\n'
        f'repository = "octo-org/{project}"\n'
        'workflow = "release.yml"\n',
        encoding="utf-8",
    )
    start = len(sandbox.log())

    result = run_publish(
        ["-r", sandbox.upload_url, "--expect", "workflow=publish.yml"],
        env=child_env(sandbox.env(), job_env),
        cwd=tmp_path,
    )

    assert result.returncode == 5, result.stderr
    assert "error: the OIDC token does not match the declared publisher" in result.stderr
    assert "publish.yml" in result.stderr
    assert "Traceback" not in result.stderr
    entries = log_since(sandbox, start)
    assert not paths(entries, "POST", "/_/oidc/mint-token")
    assert not paths(entries, "POST", "/legacy/")


def test_auto_mode_refusal_is_the_main_diagnosis(sandbox: Sandbox, tmp_path: Path) -> None:
    """No publisher matches: the mint refusal is what the user reads first."""
    project = unique_name("nopub")
    make_release(tmp_path / "dist", project, "1.0.0")
    job_env = sandbox_env(sandbox, "github", repository=f"octo-org/{project}")

    result = run_publish(
        ["-r", sandbox.upload_url], env=child_env(sandbox.env(), job_env), cwd=tmp_path
    )

    assert result.returncode == 5, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert "no trusted publisher matching this GitHub token" in errors[0]
    assert errors, result.stderr
    assert "credential" not in errors[0].lower()
    assert "::error" in result.stdout
    assert "Traceback" not in result.stderr
    # The same refusal in --json carries the index's error code.
    again = sandbox_env(sandbox, "github", repository=f"octo-org/{project}")
    as_json = run_publish(
        ["-r", sandbox.upload_url, "--json"], env=child_env(sandbox.env(), again), cwd=tmp_path
    )
    assert as_json.returncode == 5
    document = json_result(as_json)
    assert document["ok"] is False
    assert document["error"]["code"] == "invalid-publisher"
    assert document["error"]["exit_code"] == 5


def test_skip_existing(sandbox: Sandbox, tmp_path: Path) -> None:
    project = unique_name("skip")
    make_release(tmp_path / "dist", project, "1.0.0")
    job_env = github_job(sandbox, project)
    env = child_env(sandbox.env(), job_env)
    first = run_publish(["-r", sandbox.upload_url, "--json"], env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr

    again_env = child_env(
        sandbox.env(), sandbox_env(sandbox, "github", repository=f"octo-org/{project}")
    )
    second = run_publish(
        ["-r", sandbox.upload_url, "--json", "--skip-existing"], env=again_env, cwd=tmp_path
    )
    assert second.returncode == 0, second.stderr
    document = json_result(second)
    assert {entry["status"] for entry in document["files"]} == {"skipped"}


def test_concurrent_uploads(sandbox: Sandbox, tmp_path: Path) -> None:
    project = unique_name("many")
    dist = tmp_path / "dist"
    for tag in ("py3-none-any", "py2.py3-none-any", "cp311-none-any", "cp312-none-any"):
        make_wheel(dist, project, "3.0.0", tag=tag)
    make_sdist(dist, project, "3.0.0")
    job_env = github_job(sandbox, project)

    result = run_publish(
        ["-r", sandbox.upload_url, "-j", "4", "--json"],
        env=child_env(sandbox.env(), job_env),
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stderr
    document = json_result(result)
    assert len(document["files"]) == 5
    assert {entry["status"] for entry in document["files"]} == {"uploaded"}
    page = simple_page(sandbox, project)
    assert page.count(module_name(project)) >= 5


def test_retries_under_faults(sandbox_factory: SandboxFactory, tmp_path: Path) -> None:
    # Seeded faults; eight wheels and an sdist make enough requests that both kinds of
    # fault occur whatever order the retries take. Each must be retried.
    box = sandbox_factory("--fail-rate", "0.25", "--cut-rate", "0.1", "--seed", "1")
    project = unique_name("faults")
    make_release(tmp_path / "dist", project, "1.0.0")
    for minor in range(7):
        make_wheel(tmp_path / "dist", project, "1.0.0", tag=f"cp31{minor}-none-any")
    job_env = github_job(box, project)

    result = run_publish(
        ["-r", box.upload_url, "--json", "-v", "-j", "1"],
        env=child_env(box.env(), job_env),
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stderr
    assert {entry["status"] for entry in json_result(result)["files"]} == {"uploaded"}
    faults = {entry.get("fault") for entry in box.log()} - {None}
    assert faults == {"fail", "cut"}, "the sandbox did not inject both kinds of fault"


def test_token_refresh_with_short_lifetime(sandbox_factory: SandboxFactory, tmp_path: Path) -> None:
    # A 6 s token is re-minted at half-life; four 2.5 s uploads outlive it.
    box = sandbox_factory("--token-lifetime", "6", "--latency-ms", "2500")
    project = unique_name("refresh")
    dist = tmp_path / "dist"
    for tag in ("py3-none-any", "py2.py3-none-any", "cp311-none-any"):
        make_wheel(dist, project, "1.0.0", tag=tag)
    make_sdist(dist, project, "1.0.0")
    job_env = github_job(box, project)

    result = run_publish(
        ["-r", box.upload_url, "--json", "-j", "1"],
        env=child_env(box.env(), job_env),
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stderr
    assert {entry["status"] for entry in json_result(result)["files"]} == {"uploaded"}
    entries = box.log()
    mints = paths(entries, "POST", "/_/oidc/mint-token")
    assert len(mints) >= 2
    assert all(entry["status"] == 200 for entry in mints)
    uploads = paths(entries, "POST", "/legacy/")
    assert all(entry["status"] == 200 for entry in uploads)


def test_sigint_during_uploads(sandbox_factory: SandboxFactory, tmp_path: Path) -> None:
    """Ctrl-C while the index holds an upload open: exit 130 at once, every file in the summary.

    The sandbox holds the uploads open until trustpub has exited, so the test
    depends neither on timing nor on how the test run was started (the child
    gets Python's default SIGINT handling from the launcher, whatever ours is).
    """
    box = sandbox_factory()
    project = unique_name("sigint")
    dist = tmp_path / "dist"
    for tag in ("py3-none-any", "py2.py3-none-any", "cp311-none-any"):
        make_wheel(dist, project, "1.0.0", tag=tag)
    job_env = github_job(box, project)
    env = child_env(box.env(), job_env)
    box.hold_uploads()
    process = start_cli(["publish", "-r", box.upload_url, "-j", "1"], env=env, cwd=tmp_path)
    try:
        box.wait_until_held(1)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=5)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
        box.release_uploads()
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr
    assert "Traceback" not in stderr
    # The same summary as any run: every file with its status (the attestation files that
    # trustpub wrote beside them are not distributions).
    for path in dist.glob("*.whl"):
        assert path.name in stdout


def test_api_token_against_pypiserver(
    pypiserver_token: tuple[PypiServer, str], tmp_path: Path
) -> None:
    server, token = pypiserver_token
    project = unique_name("tok")
    files = make_release(tmp_path / "dist", project, "1.0.0")

    result = run_publish(
        ["-r", server.upload_url, "--trusted-publishing", "never", "--json"],
        env=child_env({"TRUSTPUB_TOKEN": token}),
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stderr
    document = json_result(result)
    assert document["trusted_publishing"] is False
    assert {entry["status"] for entry in document["files"]} == {"uploaded"}
    assert server.files() == sorted(path.name for path in files)
    assert token not in result.stdout + result.stderr
    installed = pip_install(server.simple_url, f"{project}==1.0.0", tmp_path / "target")
    assert installed.returncode == 0, installed.stderr
    assert (tmp_path / "target" / module_name(project)).is_dir()


def test_wrong_api_token_is_refused(
    pypiserver_token: tuple[PypiServer, str], tmp_path: Path
) -> None:
    server, _ = pypiserver_token
    make_release(tmp_path / "dist", unique_name("bad"), "1.0.0")
    wrong = "pypi-" + "W" * 40

    result = run_publish(["-r", server.upload_url, "--token", wrong], env=child_env(), cwd=tmp_path)

    assert result.returncode == 6, result.stderr
    assert "Traceback" not in result.stderr
    assert wrong not in result.stdout + result.stderr
    assert server.files() == []


def test_keyring_lookup(pypiserver_token: tuple[PypiServer, str], tmp_path: Path) -> None:
    from helpers_e2e import TESTS_DIR

    from helpers_keyring import STORE_ENV, write_store

    server, token = pypiserver_token
    project = unique_name("kr")
    files = make_release(tmp_path / "dist", project, "1.0.0")
    store = tmp_path / "keyring.json"
    write_store(store, server.upload_url, "__token__", token)
    env = child_env(
        {
            "PYTHON_KEYRING_BACKEND": "helpers_keyring.FileKeyring",
            "PYTHONPATH": os.pathsep.join([str(TESTS_DIR), os.environ.get("PYTHONPATH", "")]),
            STORE_ENV: str(store),
        }
    )

    result = run_publish(
        ["-r", server.upload_url, "--trusted-publishing", "never"], env=env, cwd=tmp_path
    )

    assert result.returncode == 0, result.stderr
    assert "keyring" in result.stderr
    assert server.files() == sorted(path.name for path in files)
    assert token not in result.stdout + result.stderr

    # --no-keyring: the same store is not consulted.
    refused = run_publish(
        ["-r", server.upload_url, "--trusted-publishing", "never", "--no-keyring"],
        env=env,
        cwd=tmp_path,
    )
    assert refused.returncode == 4


def test_api_token_against_the_sandbox(sandbox: Sandbox, tmp_path: Path) -> None:
    """The sandbox's user API token also works (project created by the token's user)."""
    project = unique_name("user")
    make_release(tmp_path / "dist", project, "1.0.0")

    result = run_publish(
        ["-r", sandbox.upload_url, "--json"],
        env=child_env(sandbox.env(), {"TRUSTPUB_TOKEN": sandbox.api_token}),
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stderr
    document = json_result(result)
    assert document["trusted_publishing"] is False
    assert {entry["status"] for entry in document["files"]} == {"uploaded"}


def test_any_ci_with_oidc_token_env(sandbox: Sandbox, tmp_path: Path) -> None:
    """--oidc-token-env: a token handed over in any variable, no CI variables at all."""
    project = unique_name("anyci")
    make_release(tmp_path / "dist", project, "1.0.0")
    repository = f"octo-org/{project}"
    sandbox.add_publisher(
        provider="github",
        repository=repository,
        workflow="release.yml",
        projects=[project],
        pending=True,
    )
    token = sandbox.oidc_token("github", repository=repository, workflow="release.yml")

    result = run_publish(
        ["-r", sandbox.upload_url, "--oidc-token-env", "MY_OIDC_TOKEN", "--json"],
        env=child_env(sandbox.env(), {"MY_OIDC_TOKEN": token}),
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stderr
    document = json_result(result)
    assert document["trusted_publishing"] is True
    assert document["provider"] == "env"
    assert {entry["status"] for entry in document["files"]} == {"uploaded"}
    assert token not in result.stdout + result.stderr


def test_github_without_id_token_permission(sandbox: Sandbox, tmp_path: Path) -> None:
    """Here but broken: the provider's own diagnosis, not a generic 'no credentials'."""
    project = unique_name("noperm")
    make_release(tmp_path / "dist", project, "1.0.0")
    job_env = sandbox_env(sandbox, "github", repository=f"octo-org/{project}", id_token=False)

    result = run_publish(
        ["-r", sandbox.upload_url], env=child_env(sandbox.env(), job_env), cwd=tmp_path
    )

    assert result.returncode == 4, result.stderr
    first_error = next(line for line in result.stderr.splitlines() if line.startswith("error:"))
    assert "no credentials" not in first_error
    assert "id-token: write" in result.stderr
    assert "Traceback" not in result.stderr


def test_gitlab_log_sections(sandbox: Sandbox, tmp_path: Path) -> None:
    project = unique_name("sections")
    make_release(tmp_path / "dist", project, "1.0.0")
    job_env = provider_job(sandbox, "gitlab", project)

    result = run_publish(
        ["-r", sandbox.upload_url], env=child_env(sandbox.env(), job_env), cwd=tmp_path
    )

    assert result.returncode == 0, result.stderr
    start = result.stdout.index("section_start:")
    end = result.stdout.index("section_end:")
    assert start < end
    assert "[collapsed=true]" in result.stdout
    assert "::" not in result.stdout.replace("section_", "")  # no GitHub commands on GitLab


def test_dry_run_finds_a_conflicting_file(sandbox: Sandbox, tmp_path: Path) -> None:
    """A dry run reports a same-named file with other contents, and still uploads nothing."""
    project = unique_name("conflict")
    env = child_env(sandbox.env(), {"TRUSTPUB_TOKEN": sandbox.api_token})
    first = tmp_path / "first"
    make_release(first / "dist", project, "1.0.0")
    published = run_publish(["-r", sandbox.upload_url], env=env, cwd=first)
    assert published.returncode == 0, published.stderr

    second = tmp_path / "second"
    make_wheel(second / "dist", project, "1.0.0", description="Rebuilt with other contents.")
    start = len(sandbox.log())
    result = run_publish(["-r", sandbox.upload_url, "--dry-run", "--json"], env=env, cwd=second)

    assert result.returncode == 6, result.stderr
    document = json_result(result)
    assert document["dry_run"] is True
    assert [entry["status"] for entry in document["files"]] == ["conflict"]
    assert document["error"]["code"] == "file-already-exists"
    assert not paths(log_since(sandbox, start), "POST", "/legacy/")


def test_dry_run_leaves_a_static_token_usable(sandbox: Sandbox, tmp_path: Path) -> None:
    """GitLab hands one token per job: a dry run must not spend it (no mint, no jti used)."""
    project = unique_name("gl-dry")
    make_release(tmp_path / "dist", project, "1.0.0")
    env = child_env(sandbox.env(), provider_job(sandbox, "gitlab", project))

    dry = run_publish(["-r", sandbox.upload_url, "--dry-run", "--json"], env=env, cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert json_result(dry)["provider"] == "gitlab"

    real = run_publish(["-r", sandbox.upload_url, "--json"], env=env, cwd=tmp_path)
    assert real.returncode == 0, real.stderr
    assert {entry["status"] for entry in json_result(real)["files"]} == {"uploaded"}


def test_publish_from_a_self_managed_gitlab(sandbox: Sandbox, tmp_path: Path) -> None:
    """A GitLab job on the sandbox's second (self-managed) GitLab issuer publishes through a
    publisher whose ``issuer`` is that instance, as PyPI allows for organizations."""
    project = unique_name("glsm")
    make_release(tmp_path / "dist", project, "1.0.0")
    issuer = str(sandbox.ready["gitlab_custom_issuer"])
    repository = f"example-group/{project}"
    workflow = ".gitlab-ci.yml"
    sandbox.add_publisher(
        provider="gitlab",
        repository=repository,
        workflow=workflow,
        issuer=issuer,
        projects=[project],
        pending=True,
    )
    job = sandbox.job(
        provider="gitlab",
        instance="self-managed",
        repository=repository,
        workflow=workflow,
        audience=sandbox.audience,
    )
    env = child_env(sandbox.env(), job["env"])
    assert env["CI_SERVER_URL"] == issuer

    expect = [f"repository={repository}", f"workflow={workflow}", f"issuer={issuer}"]
    claims = subprocess.run(
        [sys.executable, "-m", "trustpub", "claims", "-r", sandbox.upload_url, "--json"]
        + [arg for pair in expect for arg in ("--expect", pair)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert claims.returncode == 0, claims.stdout + claims.stderr
    result = run_publish(
        ["dist/*", "-r", sandbox.upload_url, "--trusted-publishing", "always", "--json"],
        env=env,
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stderr
    document = json_result(result)
    assert document["provider"] == "gitlab"
    assert {entry["status"] for entry in document["files"]} == {"uploaded"}
    assert f"/{project}-1.0.0" in simple_page(sandbox, project).replace("_", "-")
