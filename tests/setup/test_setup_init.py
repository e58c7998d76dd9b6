"""``trustpub init`` in throwaway git repositories: what it reads, writes and prints."""

from __future__ import annotations

import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner, Result

from trustpub.cli import cli
from trustpub.oidc.publishers import Provider, load_declared_publisher
from trustpub.setup.check import run_check
from trustpub.setup.detect import default_branch, parse_remote

PYPROJECT = """\
# The project's own comment stays.
[project]
name = "My_Pkg"   # odd case on purpose
version = "1.0"

[tool.ruff]
line-length = 100
"""


@pytest.mark.parametrize(
    ("url", "provider", "repository", "host"),
    [
        ("https://github.com/octo/pkg.git", Provider.GITHUB, "octo/pkg", "github.com"),
        ("https://github.com/octo/pkg", Provider.GITHUB, "octo/pkg", "github.com"),
        ("git@github.com:octo/pkg.git", Provider.GITHUB, "octo/pkg", "github.com"),
        ("ssh://git@github.com/octo/pkg.git", Provider.GITHUB, "octo/pkg", "github.com"),
        ("https://user:s3cret@github.com/octo/pkg.git", Provider.GITHUB, "octo/pkg", "github.com"),
        ("https://gitlab.com/group/pkg.git", Provider.GITLAB, "group/pkg", "gitlab.com"),
        ("https://gitlab.com/group/sub/pkg.git", Provider.GITLAB, "group/sub/pkg", "gitlab.com"),
        (
            "git@gitlab.com:group/sub/deeper/pkg.git",
            Provider.GITLAB,
            "group/sub/deeper/pkg",
            "gitlab.com",
        ),
        (
            "ssh://git@gitlab.example.com:2222/team/pkg.git",
            Provider.GITLAB,
            "team/pkg",
            "gitlab.example.com",
        ),
    ],
)
def test_parse_remote(url: str, provider: Provider, repository: str, host: str) -> None:
    remote = parse_remote(url)
    assert remote is not None
    assert (remote.provider, remote.repository, remote.host) == (provider, repository, host)
    assert "s3cret" not in repr(remote)


@pytest.mark.parametrize(
    "url",
    [
        "https://bitbucket.org/o/r.git",
        "/srv/git/pkg.git",
        "https://github.com/octo",
        "file:///x/y",
        "git@github.com:a/b/c.git",
        "",
    ],
)
def test_parse_remote_refuses(url: str) -> None:
    assert parse_remote(url) is None


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def make_repo(root: Path, remote: str | None, *, branch: str = "trunk") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    _git(root, "init", "-q", "-b", branch)
    if remote is not None:
        _git(root, "remote", "add", "origin", remote)
    (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    return root


def run_init(root: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["init", str(root), *args])


def _links(output: str) -> list[str]:
    return [line.strip() for line in output.splitlines() if line.strip().startswith("https://")]


CASES = [
    ("https://github.com/octo/pkg.git", ".github/workflows/release.yml", "github", "octo/pkg"),
    ("git@github.com:octo/pkg.git", ".github/workflows/release.yml", "github", "octo/pkg"),
    ("https://gitlab.com/group/sub/pkg.git", ".gitlab-ci.yml", "gitlab", "group/sub/pkg"),
    ("git@gitlab.com:group/sub/deeper/pkg.git", ".gitlab-ci.yml", "gitlab", "group/sub/deeper/pkg"),
]


@pytest.mark.parametrize(("remote", "written", "provider", "repository"), CASES)
def test_init_writes_checks_clean_and_links_carry_the_values(
    tmp_path: Path, remote: str, written: str, provider: str, repository: str
) -> None:
    root = make_repo(tmp_path / "repo", remote)
    result = run_init(root, "--yes")
    assert result.exit_code == 0, result.output
    assert f"wrote {written}" in result.output
    assert "wrote pyproject.toml" in result.output
    declared = load_declared_publisher(root / "pyproject.toml")
    assert declared is not None
    assert (declared.provider.value, declared.repository, declared.environment) == (
        provider,
        repository,
        "pypi",
    )
    report = run_check(root, declared)
    assert report.findings == ()
    assert len(report.jobs) == 1
    project_link, pending_link = _links(result.output)
    parts = urlsplit(project_link)
    assert parts.netloc == "pypi.org"
    assert parts.path == "/manage/project/my-pkg/settings/publishing/"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    if provider == "github":
        assert query == {
            "provider": "github",
            "owner": "octo",
            "repository": "pkg",
            "workflow_filename": "release.yml",
            "environment": "pypi",
        }
    else:
        namespace, _, project = repository.rpartition("/")
        assert query == {
            "provider": "gitlab",
            "namespace": namespace,
            "project": project,
            "workflow_filepath": ".gitlab-ci.yml",
            "environment": "pypi",
        }
    assert pending_link == "https://pypi.org/manage/account/publishing/"
    assert "PyPI Project Name: My_Pkg" in result.output
    assert "does not reserve the name" in result.output


def test_pyproject_keeps_everything_else(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", "https://github.com/octo/pkg.git")
    assert run_init(root, "--yes").exit_code == 0
    text = (root / "pyproject.toml").read_text(encoding="utf-8")
    assert text.startswith(PYPROJECT)
    assert text[len(PYPROJECT) :] == (
        "\n[tool.trustpub.publisher]\n"
        'provider = "github"\n'
        'repository = "octo/pkg"\n'
        'workflow = "release.yml"\n'
        'environment = "pypi"\n'
    )
    # Running again replaces the table, not the rest.
    assert run_init(root, "--yes", "--force", "--environment", "release").exit_code == 0
    again = (root / "pyproject.toml").read_text(encoding="utf-8")
    assert again.startswith(PYPROJECT)
    assert again.count("[tool.trustpub.publisher]") == 1
    assert 'environment = "release"' in again


def test_existing_workflow_is_not_replaced_without_force(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", "https://github.com/octo/pkg.git")
    workflow = root / ".github" / "workflows" / "release.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text("mine\n", encoding="utf-8")
    result = run_init(root, "--yes")
    assert result.exit_code == 2
    assert "error: .github/workflows/release.yml exists; nothing was written" in result.output
    assert workflow.read_text(encoding="utf-8") == "mine\n"
    assert (root / "pyproject.toml").read_text(encoding="utf-8") == PYPROJECT


def test_without_a_terminal_it_asks_for_yes(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", "https://github.com/octo/pkg.git")
    result = run_init(root)
    assert result.exit_code == 2
    assert "not a terminal" in result.output
    assert not (root / ".github").exists()


def test_dry_run_prints_and_writes_nothing(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", "git@gitlab.com:group/pkg.git")
    result = run_init(root, "--dry-run", "--index", "both")
    assert result.exit_code == 0, result.output
    assert "--- .gitlab-ci.yml ---" in result.output
    assert "TESTPYPI_ID_TOKEN:" in result.output
    assert "SIGSTORE_ID_TOKEN:" in result.output
    assert not (root / ".gitlab-ci.yml").exists()
    assert (root / "pyproject.toml").read_text(encoding="utf-8") == PYPROJECT
    assert "Register this trusted publisher on TestPyPI (GitLab):" in result.output


def test_every_value_has_a_flag(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", None)
    result = run_init(
        root,
        "--yes",
        "--provider",
        "github",
        "--repository",
        "acme/tool",
        "--workflow",
        "pypi.yml",
        "--environment",
        "release",
        "--index",
        "testpypi",
        "--trigger",
        "tag",
        "--project",
        "tool",
    )
    assert result.exit_code == 0, result.output
    text = (root / ".github/workflows/pypi.yml").read_text(encoding="utf-8")
    assert 'tags:\n      - "v*"' in text
    assert "--repository testpypi" in text
    assert "name: release" in text
    [link, pending] = _links(result.output)
    assert link.startswith("https://test.pypi.org/manage/project/tool/settings/publishing/?")
    assert "environment=release" in link
    assert "workflow_filename=pypi.yml" in link
    assert pending == "https://test.pypi.org/manage/account/publishing/"


def test_no_remote_no_provider_is_a_usage_error(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", None)
    result = run_init(root, "--yes")
    assert result.exit_code == 2
    assert "cannot tell the CI provider" in result.output
    assert "hint: pass --provider github|gitlab" in result.output


def test_self_managed_gitlab_turns_attestations_off(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", "ssh://git@gitlab.example.com:2222/team/pkg.git")
    result = run_init(root, "--yes")
    assert result.exit_code == 0, result.output
    text = (root / ".gitlab-ci.yml").read_text(encoding="utf-8")
    assert "--attestations off" in text
    assert "SIGSTORE_ID_TOKEN" not in text
    assert "GitLab instance (issuer URL): https://gitlab.example.com" in result.output
    declared = load_declared_publisher(root / "pyproject.toml")
    assert declared is not None
    assert declared.issuer == "https://gitlab.example.com"
    assert run_check(root, declared).findings == ()


def test_default_branch(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", "https://github.com/octo/pkg.git", branch="trunk")
    assert default_branch(root) == "trunk"
    result = run_init(root, "--dry-run")
    assert "GitHub repository: octo/pkg (default branch trunk)" in result.output


def test_check_compares_the_declared_repository_with_the_remote(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", "https://github.com/Octo/PKG.git")
    assert run_init(root, "--yes").exit_code == 0
    declared = load_declared_publisher(root / "pyproject.toml")
    assert declared is not None
    assert run_check(root, declared).findings == ()  # case differences are not reported
    _git(root, "remote", "set-url", "origin", "git@github.com:octo/renamed.git")
    [finding] = run_check(root, declared).findings
    assert (finding.kind, finding.file) == ("repository", "pyproject.toml")
    lines = (root / "pyproject.toml").read_text(encoding="utf-8").splitlines()
    assert lines[finding.line - 1] == 'repository = "Octo/PKG"'
    assert "but the git remote is octo/renamed" in finding.message
    assert finding.fix.startswith('repository = "octo/renamed"')
