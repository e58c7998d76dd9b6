"""A catalogue of bad inputs, one case each, through the real ``trustpub publish`` command.

Every case runs the click command in-process (CliRunner, so exit codes and the
absence of tracebacks are the CLI's own) against a fresh :class:`FakeIndex` on
127.0.0.1 that would accept everything, and asserts:

* the documented exit code;
* the ``error:`` line names the problem and a ``hint:`` names the fix;
* no traceback;
* nothing was uploaded (no ``POST /legacy/`` reached the index) and, for
  identity problems, no mint request was sent;
* the output stays bounded even when the index answers with a huge body.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from fixtures_dists import BAD_RST, make_release, make_sdist, make_wheel
from helpers_canary import (
    FakeIndex,
    Reply,
    Route,
    canary_api_token,
    canary_jwt,
    clean_env,
    reply,
    run_cli,
)
from trustpub._secret import forget_all
from trustpub.cli import cli

_CI_PREFIXES = ("GITHUB_", "ACTIONS_", "GITLAB_", "CI_", "TRUSTPUB_", "RUNNER_", "BUILDKITE")
_CI_NAMES = (
    "CI",
    "GCE_METADATA_HOST",
    "GCE_METADATA_IP",
    "GOOGLE_SERVICE_ACCOUNT_NAME",
    "ACTIVESTATE_OIDC_TOKEN",
    "SSL_CERT_FILE",
    "REQUESTS_CA_BUNDLE",
)

HUGE = 8 * 2**20
"""Bytes of a huge answer body (8 MiB)."""

TRUSTED = ("--trusted-publishing", "always", "--oidc-token-env", "CANARY_OIDC")


@pytest.fixture(autouse=True)
def project(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """A project directory as the cwd, no CI variables, an empty keyring."""
    for name in list(os.environ):
        if name.startswith(_CI_PREFIXES) or name in _CI_NAMES or name.endswith("_ID_TOKEN"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    directory = tmp_path / "project"
    directory.mkdir()
    monkeypatch.chdir(directory)
    forget_all()
    yield directory
    forget_all()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt_with_payload(payload: bytes) -> str:
    header = _b64(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    return f"{header}.{_b64(payload)}.{_b64(b'signature-bytes-' * 4)}"


# ---------------------------------------------------------------------- the cases


DistSetup = Callable[[Path], None]


def valid_release(root: Path) -> None:
    make_release(root / "dist")


@dataclass(frozen=True)
class Case:
    """One bad input."""

    exit_code: int
    message: str
    hint: str
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    dist: DistSetup = valid_release
    routes: dict[str, Route] = field(default_factory=dict)
    repository: str | None = None
    """``-r`` value; None = the fake index's upload URL."""
    paths: tuple[str, ...] = ()


def trusted(
    token: str,
    *,
    exit_code: int,
    message: str,
    hint: str,
    args_extra: tuple[str, ...] = (),
    **kw: object,
) -> Case:
    """A case with trusted publishing from ``$CANARY_OIDC`` holding ``token``."""
    return Case(
        exit_code,
        message,
        hint,
        args=(*TRUSTED, *args_extra),
        env={"CANARY_OIDC": token},
        **kw,  # type: ignore[arg-type]
    )


def _dist(**knobs: object) -> DistSetup:
    def setup(root: Path) -> None:
        make_wheel(root / "dist", **knobs)  # type: ignore[arg-type]

    return setup


def _sdist(**knobs: object) -> DistSetup:
    def setup(root: Path) -> None:
        make_sdist(root / "dist", **knobs)  # type: ignore[arg-type]

    return setup


def _files(*names: str, content: bytes = b"not a distribution") -> DistSetup:
    def setup(root: Path) -> None:
        (root / "dist").mkdir(parents=True, exist_ok=True)
        for name in names:
            (root / "dist" / name).write_bytes(content)

    return setup


def _empty_dir(root: Path) -> None:
    (root / "dist").mkdir()


def _nothing(root: Path) -> None:
    return None


def _broken_symlink(root: Path) -> None:
    (root / "dist").mkdir()
    (root / "dist" / "example_pkg-1.0.0-py3-none-any.whl").symlink_to(root / "missing.whl")


def _directory_named_like_a_wheel(root: Path) -> None:
    (root / "dist" / "example_pkg-1.0.0-py3-none-any.whl").mkdir(parents=True)


def _two_versions(root: Path) -> None:
    make_wheel(root / "dist", version="1.0.0")
    make_sdist(root / "dist", version="2.0.0")


def _two_projects(root: Path) -> None:
    make_wheel(root / "dist", "example-pkg")
    make_wheel(root / "dist", "other-pkg")


def _bad_attestation(root: Path) -> None:
    valid_release(root)
    sidecar = root / "dist" / "example_pkg-1.0.0-py3-none-any.whl.publish.attestation"
    sidecar.write_text("{not json", encoding="utf-8")


def _pyproject(text: str) -> DistSetup:
    def setup(root: Path) -> None:
        valid_release(root)
        (root / "pyproject.toml").write_text(text, encoding="utf-8")

    return setup


def _answer_html(status: int = 200) -> Route:
    return reply(
        status,
        "<html><body><h1>Welcome to nginx</h1></body></html>",
        headers={"Content-Type": "text/html"},
    )


def _huge(status: int, content_type: str = "text/plain") -> Route:
    body = b"A" * HUGE
    return reply(status, body, headers={"Content-Type": content_type})


def _redirect(status: int, location: str = "http://localhost:9/elsewhere/") -> Route:
    return lambda _seen: Reply(status, "moved", headers={"Location": location})


def good_jwt(**claims: object) -> str:
    # The cases are built when the module is collected and may run many minutes later on a
    # busy machine: a day's lifetime keeps "valid" tokens valid whenever the case runs.
    claims.setdefault("lifetime", 86_400)
    return canary_jwt(**claims)  # type: ignore[arg-type]


NOW = int(time.time())

CASES: dict[str, Case] = {
    # ---- distributions (exit 3 unless nothing at all was found)
    "no-dist-directory": Case(3, "no distributions", "python -m build", dist=_nothing),
    "empty-dist-directory": Case(3, "no distributions", "python -m build", dist=_empty_dir),
    "missing-glob": Case(
        3, "no distributions found in missing/*.whl", "python -m build", paths=("missing/*.whl",)
    ),
    "missing-file": Case(
        3,
        "no such file or directory: missing/example_pkg-1.0.0.tar.gz",
        "check the path",
        paths=("missing/example_pkg-1.0.0.tar.gz",),
    ),
    "corrupt-wheel": Case(3, "example_pkg-1.0.0-py3-none-any.whl", "", dist=_dist(corrupt=True)),
    "corrupt-sdist": Case(3, "example_pkg-1.0.0.tar.gz", "", dist=_sdist(corrupt=True)),
    "wheel-without-metadata": Case(3, "METADATA", "", dist=_dist(metadata=False)),
    "sdist-without-pkg-info": Case(3, "PKG-INFO", "", dist=_sdist(pkg_info=False)),
    "sdist-not-pep625-name": Case(
        3, "Example-Pkg-1.0.0.tar.gz", "", dist=_sdist(filename="Example-Pkg-1.0.0.tar.gz")
    ),
    "sdist-zip": Case(3, "example_pkg-1.0.0.zip", "", dist=_sdist(zip_format=True)),
    "wheel-name-mismatch": Case(3, "other-pkg", "", dist=_dist(meta_name="other-pkg")),
    "wheel-version-mismatch": Case(3, "9.9.9", "", dist=_dist(meta_version="9.9.9")),
    "sdist-name-mismatch": Case(3, "other-pkg", "", dist=_sdist(meta_name="other-pkg")),
    "sdist-version-mismatch": Case(3, "9.9.9", "", dist=_sdist(meta_version="9.9.9")),
    "egg-file": Case(
        3, "example_pkg-1.0.0-py3.11.egg", "", dist=_files("example_pkg-1.0.0-py3.11.egg")
    ),
    "exe-installer": Case(
        3, "example_pkg-1.0.0.win32.exe", "", dist=_files("example_pkg-1.0.0.win32.exe")
    ),
    "tar-bz2-sdist": Case(
        3, "example_pkg-1.0.0.tar.bz2", "", dist=_files("example_pkg-1.0.0.tar.bz2")
    ),
    "unreadable-file": Case(
        3,
        "no such file or directory: dist/example_pkg-1.0.0-py3-none-any.whl",
        "check the path",
        dist=_broken_symlink,
        paths=("dist/example_pkg-1.0.0-py3-none-any.whl",),
    ),
    "dangling-symlink-in-dist": Case(
        3, "no distributions found in dist/", "python -m build", dist=_broken_symlink
    ),
    "directory-named-like-a-wheel": Case(
        3, "no distributions found in dist/", "python -m build", dist=_directory_named_like_a_wheel
    ),
    "empty-wheel-file": Case(
        3,
        "example_pkg-1.0.0-py3-none-any.whl",
        "",
        dist=_files("example_pkg-1.0.0-py3-none-any.whl", content=b""),
    ),
    "bad-wheel-filename": Case(
        3, "example_pkg-1.0.0.whl", "", dist=_dist(filename="example_pkg-1.0.0.whl")
    ),
    "invalid-version": Case(3, "1.0.0.not-valid", "", dist=_dist(version="1.0.0.not-valid")),
    "metadata-without-name": Case(
        3,
        "'name' is a required field",
        "",
        dist=_dist(metadata="Metadata-Version: 2.1\nVersion: 1.0.0\n"),
    ),
    "unknown-metadata-version": Case(3, "9.9", "", dist=_dist(metadata_version="9.9")),
    "readme-does-not-render": Case(
        3,
        "example_pkg-1.0.0-py3-none-any.whl",
        "",
        dist=_dist(description=BAD_RST, description_content_type="text/x-rst"),
    ),
    "two-versions": Case(3, "2.0.0", "", dist=_two_versions),
    "two-projects": Case(3, "other", "", dist=_two_projects),
    "linux-platform-tag": Case(
        3,
        "has an unsupported platform tag 'linux_x86_64'.",
        "auditwheel repair",
        dist=_dist(tag="cp311-cp311-linux_x86_64"),
    ),
    "invalid-requires-dist": Case(
        3,
        "'bad requirement !!' is invalid for 'requires-dist'",
        "",
        dist=_dist(requires_dist=["bad requirement !!"]),
    ),
    "invalid-requires-python": Case(
        3, "'>=3.x' is invalid for 'requires-python'", "", dist=_dist(requires_python=">=3.x")
    ),
    "invalid-project-name": Case(
        # twine sends the name with each unsafe run as "-"; PyPI's form refuses that first
        3,
        "'Example-Pkg-' is an invalid value for Name.",
        "",
        dist=_dist(name="Example Pkg!"),
    ),
    "attestation-not-json": Case(
        3, "unreadable attestation (not valid JSON)", "--no-attestations", dist=_bad_attestation
    ),
    # ---- identity (exit 4)
    "jwt-not-a-jwt": trusted("not-a-jwt-at-all", exit_code=4, message="OIDC token", hint=""),
    "jwt-two-parts": trusted(
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0", exit_code=4, message="OIDC token", hint=""
    ),
    "jwt-payload-not-base64": trusted(
        "eyJhbGciOiJSUzI1NiJ9.!!!not-base64!!!.c2lnbmF0dXJl",
        exit_code=4,
        message="base64url",
        hint="",
    ),
    "jwt-payload-not-json": trusted(
        jwt_with_payload(b"not json {"), exit_code=4, message="payload", hint=""
    ),
    "jwt-payload-a-list": trusted(
        jwt_with_payload(b"[1, 2, 3]"), exit_code=4, message="payload", hint=""
    ),
    "jwt-list-audience": trusted(
        good_jwt(audience=["fake-audience", "other"]),
        exit_code=4,
        message="2 audiences",
        hint="single audience",
    ),
    "jwt-wrong-audience": trusted(
        good_jwt(audience="someone-else"),
        exit_code=4,
        message="'someone-else'",
        hint="fake-audience",
    ),
    "jwt-no-audience": trusted(
        good_jwt(audience=None), exit_code=4, message="no audience", hint="fake-audience"
    ),
    "jwt-no-expiry": trusted(
        good_jwt(exp=None), exit_code=4, message="no expiry", hint="unmodified"
    ),
    "jwt-expired": trusted(
        good_jwt(exp=NOW - 7200), exit_code=4, message="expired at", hint="clock"
    ),
    "jwt-no-issuer": trusted(
        good_jwt(iss=None), exit_code=4, message="no issuer", hint="unmodified"
    ),
    "oidc-env-unset": Case(4, "CANARY_OIDC is not set", "export the OIDC token", args=TRUSTED),
    "oidc-env-empty": Case(
        4, "CANARY_OIDC is empty", "export the OIDC token", args=TRUSTED, env={"CANARY_OIDC": ""}
    ),
    "gitlab-id-token-missing": Case(
        4,
        "GitLab",
        "id_tokens",
        args=("--trusted-publishing", "always"),
        env={"GITLAB_CI": "true", "CI": "true", "CI_PROJECT_PATH": "group/project"},
    ),
    "github-without-id-token-permission": Case(
        4,
        "ACTIONS_ID_TOKEN_REQUEST_URL",
        "id-token: write",
        args=("--trusted-publishing", "always"),
        env={"GITHUB_ACTIONS": "true", "CI": "true", "GITHUB_REPOSITORY": "octo/pkg"},
    ),
    "always-outside-ci": Case(
        4, "no trusted-publishing identity", "", args=("--trusted-publishing", "always")
    ),
    "never-without-token": Case(
        4, "no API token", "--token", args=("--trusted-publishing", "never", "--no-keyring")
    ),
    # ---- the index's exchange answers (exit 5)
    "audience-html": trusted(
        good_jwt(),
        exit_code=5,
        message="audience",
        hint="",
        routes={"/_/oidc/audience": _answer_html()},
    ),
    "audience-empty": trusted(
        good_jwt(),
        exit_code=5,
        message="audience",
        hint="",
        routes={"/_/oidc/audience": reply(200, b"")},
    ),
    "audience-404": trusted(
        good_jwt(),
        exit_code=5,
        message="trusted publishing",
        hint="",
        routes={"/_/oidc/audience": reply(404, "Not Found")},
    ),
    "audience-huge": trusted(
        good_jwt(),
        exit_code=7,  # issue 14: answers are capped as they arrive (1 MiB for the exchange)
        message="larger than 1 MiB, the limit for a token exchange answer",
        hint="repository URL",
        routes={"/_/oidc/audience": _huge(200)},
    ),
    "audience-redirect": trusted(
        good_jwt(),
        exit_code=5,
        message="redirect",
        hint="--repository",
        routes={"/_/oidc/audience": _redirect(302)},
    ),
    "mint-html": trusted(
        good_jwt(),
        exit_code=5,
        message="mint",
        hint="",
        routes={"/_/oidc/mint-token": _answer_html()},
    ),
    "mint-empty": trusted(
        good_jwt(),
        exit_code=5,
        message="mint",
        hint="",
        routes={"/_/oidc/mint-token": reply(200, b"")},
    ),
    "mint-422-without-errors": trusted(
        good_jwt(),
        exit_code=5,
        message="without saying why",
        hint="--repository",
        routes={"/_/oidc/mint-token": reply(422, {"message": "nope"})},
    ),
    "mint-422-huge": trusted(
        good_jwt(),
        exit_code=5,
        message="HTTP 422",
        hint="",
        routes={"/_/oidc/mint-token": _huge(422, "application/json")},
    ),
    "mint-redirect": trusted(
        good_jwt(),
        exit_code=5,
        message="redirect",
        hint="--repository",
        routes={"/_/oidc/mint-token": _redirect(307)},
    ),
    # ---- upload answers (exit 6)
    "upload-redirect": Case(
        6, "redirect", "", args=("--token", "pypi-" + "R" * 40), routes={"/legacy/": _redirect(301)}
    ),
    "upload-400-huge": Case(
        6, "refused", "", args=("--token", "pypi-" + "H" * 40), routes={"/legacy/": _huge(400)}
    ),
    # ---- usage (exit 2)
    "unknown-repository-name": Case(2, "unknown repository 'pypy'", "testpypi", repository="pypy"),
    "repository-not-http": Case(
        2, "invalid repository URL", "http(s)", repository="ftp://upload.example.org/legacy/"
    ),
    # Credentials in the URL are accepted (as twine takes them), but not against the options.
    "repository-credentials-disagree": Case(
        2,
        "the username in the repository URL differs from --username",
        "",
        args=("--username", "someone-else"),
        repository="https://user:secret@upload.example.org/legacy/",
    ),
    "repository-plain-http-remote": Case(
        2, "refusing plain http", "loopback", repository="http://upload.example.org/legacy/"
    ),
    "repository-empty": Case(2, "repository", "", repository=""),
    "token-with-always": Case(
        2,
        "--token cannot be combined with --trusted-publishing always",
        "",
        args=("--token", "pypi-" + "T" * 40, "--trusted-publishing", "always"),
    ),
    "oidc-token-env-with-never": Case(
        2,
        "--oidc-token-env",
        "",
        args=("--trusted-publishing", "never", "--oidc-token-env", "CANARY_OIDC"),
        env={"CANARY_OIDC": "x.y.z"},
    ),
    "oidc-token-env-bad-name": Case(
        2,
        "is not an environment variable name",
        "give the variable's name",
        args=("--trusted-publishing", "always", "--oidc-token-env", "eyJ.value"),
    ),
    "jobs-too-many": Case(2, "33 is not in the range 1<=x<=32", "", args=("--jobs", "33")),
    "blank-token": Case(
        4,
        "no API token for --trusted-publishing never",
        "--token",
        args=("--trusted-publishing", "never", "--no-keyring", "--token", "   "),
    ),
    "empty-token-env": Case(
        4, "no credentials", "TRUSTPUB_TOKEN", env={"TRUSTPUB_TOKEN": ""}, args=("--no-keyring",)
    ),
    "jobs-zero": Case(2, "Invalid value for '-j' / '--jobs'", "", args=("--jobs", "0")),
    "mode-bogus": Case(
        2,
        "Invalid value for '--trusted-publishing'",
        "",
        args=("--trusted-publishing", "sometimes"),
    ),
    "expect-not-key-value": trusted(
        good_jwt(),
        exit_code=2,
        message="--expect: expected KEY=VALUE",
        hint="",
        args_extra=("--expect", "nonsense"),
    ),
    "expect-unknown-key": trusted(
        good_jwt(),
        exit_code=2,
        message="colour",
        hint="",
        args_extra=("--expect", "provider=github", "--expect", "colour=blue"),
    ),
    "expect-incomplete-publisher": trusted(
        good_jwt(),
        exit_code=2,
        message="--expect: missing key 'repository' for a github publisher",
        hint="",
        args_extra=("--expect", "provider=github", "--expect", "workflow=release.yml"),
    ),
    "pyproject-bad-publisher": trusted(
        good_jwt(),
        exit_code=2,
        message="pyproject.toml",
        hint="",
        dist=_pyproject('[tool.trustpub.publisher]\nprovider = "nowhere"\n'),
    ),
    "pyproject-not-toml": trusted(
        good_jwt(),
        exit_code=2,
        message="pyproject.toml",
        hint="",
        dist=_pyproject("[tool.trustpub.publisher\nprovider = \n"),
    ),
}


def base_routes() -> dict[str, Route]:
    """An index that would accept everything."""
    return {
        "/_/oidc/audience": reply(200, {"audience": "fake-audience"}),
        "/_/oidc/mint-token": reply(
            200, {"success": True, "token": canary_api_token(), "expires": NOW + 900}
        ),
        "/legacy/": reply(200, "OK"),
        "/_/oidc/burn-token": reply(200, {"success": True}),
    }


def test_the_catalogue_is_big_enough() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input(project: Path, name: str) -> None:
    case = CASES[name]
    case.dist(project)
    routes = base_routes()
    routes.update(case.routes)
    with FakeIndex(routes) as index:
        repository = index.upload_url if case.repository is None else case.repository
        result = CliRunner().invoke(
            cli,
            ["publish", *case.paths, "-r", repository, *case.args],
            env=case.env,
            catch_exceptions=False,
        )
        uploads = index.seen("/legacy/", "POST")
        mints = index.seen("/_/oidc/mint-token", "POST")

    output = result.output
    if os.environ.get("REL_SHOW"):
        print(f"\n=== {name}: exit {result.exit_code}\n{result.stderr}")
    assert result.exit_code == case.exit_code, output[-3000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    if not errors:  # click's own usage errors
        errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert errors, f"no error line:\n{output[-3000:]}"
    assert case.message in result.stderr, output[-3000:]
    if case.hint:
        hints = [line for line in result.stderr.splitlines() if line.startswith("hint:")]
        assert hints, f"no hint line:\n{output[-3000:]}"
        assert case.hint in result.stderr.split(errors[0], 1)[1], output[-3000:]
    elif result.exit_code != 2 or errors[0].startswith("error:"):
        assert "hint:" in result.stderr, f"no hint:\n{output[-3000:]}"
    assert "Traceback" not in output
    assert "internal error" not in output
    if case.exit_code == 6:  # the index refused the first file; nothing else was tried
        assert len(uploads) == 1, "after a refusal no further file may be sent"
    else:
        assert uploads == [], "a file was sent for upload"
    if case.exit_code in (2, 3, 4):
        assert mints == [], "a token was minted for a run that could not succeed"
    assert len(output) < 64 * 1024, "a huge answer body reached the output"


def test_a_pipe_named_like_a_wheel_is_refused_not_waited_on(project: Path) -> None:
    """A FIFO given by name (e.g. from process substitution) must not hang the run."""
    (project / "dist").mkdir()
    fifo = project / "dist" / "example_pkg-1.0.0-py3-none-any.whl"
    os.mkfifo(fifo)
    with FakeIndex(base_routes()) as index:
        result = run_cli(
            ["publish", str(fifo), "-r", index.upload_url, "--token", canary_api_token()],
            env=clean_env(),
            cwd=project,
            timeout=60,
        )
        uploads = index.seen("/legacy/", "POST")
    assert result.returncode == 3, result.stderr
    assert "not a regular file" in result.stderr
    assert "hint: pass the built distribution file itself" in result.stderr
    assert "Traceback" not in result.stderr
    assert uploads == []
