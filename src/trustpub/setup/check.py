"""``trustpub check``: find set-up mistakes in CI files before the release does.

Offline and static. Reads ``.github/workflows/*.yml``/``*.yaml`` and ``.gitlab-ci.yml``
with its local includes under a directory, finds the jobs that publish with trusted
publishing, and checks each against the declared publisher and PyPI's rules
(:mod:`trustpub.setup.check_github`, :mod:`trustpub.setup.check_gitlab`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from trustpub.oidc.publishers import Publisher
from trustpub.setup.check_github import Workflow, check_workflows
from trustpub.setup.check_github import publishing_jobs as github_jobs
from trustpub.setup.check_gitlab import TOP_LEVEL, PipelineFile, check_pipeline
from trustpub.setup.check_gitlab import publishing_jobs as gitlab_jobs
from trustpub.setup.findings import CheckFinding
from trustpub.setup.yamldoc import Document, YamlProblem, parse

MAX_FILE_BYTES = 1_000_000
"""CI files larger than this are not read (no CI accepts them either)."""

MAX_INCLUDES = 50
WORKFLOWS_DIR = ".github/workflows"


@dataclass(frozen=True)
class CheckReport:
    """What ``check`` read and found."""

    files: tuple[str, ...]
    """Files read, relative to the checked directory."""
    jobs: tuple[tuple[str, str, int], ...]
    """(file, job, line) of each job that publishes with trusted publishing."""
    findings: tuple[CheckFinding, ...]
    publisher: Publisher | None

    @property
    def errors(self) -> tuple[CheckFinding, ...]:
        return tuple(f for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> tuple[CheckFinding, ...]:
        return tuple(f for f in self.findings if f.severity == "warning")

    def failed(self, *, strict: bool = False) -> bool:
        """Errors fail; warnings fail only when ``strict``."""
        return bool(self.errors) or (strict and bool(self.warnings))


def _read(root: Path, rel: str) -> Document | CheckFinding:
    path = root / rel
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        return CheckFinding("invalid-yaml", rel, 1, f"cannot read: {error.strerror}", "")
    if len(raw) > MAX_FILE_BYTES:
        return CheckFinding("invalid-yaml", rel, 1, "larger than 1 MB; not read", "")
    try:
        return parse(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return CheckFinding("invalid-yaml", rel, 1, "not UTF-8 text", "save the file as UTF-8")
    except YamlProblem as problem:
        return CheckFinding(
            "invalid-yaml", rel, problem.line, problem.message, "fix the YAML syntax"
        )


def workflow_files(root: Path) -> list[str]:
    """The workflow files under ``root`` (relative paths, sorted)."""
    directory = root / WORKFLOWS_DIR
    if not directory.is_dir():
        return []
    return sorted(
        f"{WORKFLOWS_DIR}/{p.name}"
        for p in directory.iterdir()
        if p.suffix in (".yml", ".yaml") and p.is_file()
    )


def _pipeline_files(root: Path, problems: list[CheckFinding]) -> list[PipelineFile]:
    files: list[PipelineFile] = []
    queue = [TOP_LEVEL] if (root / TOP_LEVEL).is_file() else []
    seen: set[str] = set()
    while queue and len(seen) < MAX_INCLUDES:
        rel = queue.pop(0)
        if rel in seen:
            continue
        seen.add(rel)
        if not (root / rel).is_file():
            continue  # a glob or a missing file: GitLab reports that itself
        doc = _read(root, rel)
        if isinstance(doc, CheckFinding):
            problems.append(doc)
            continue
        source = PipelineFile(rel, doc)
        files.append(source)
        queue.extend(path for path, _ in source.local_includes())
    return files


OUR_ACTION_NAME = "trustpub publish"
"""The ``name:`` of trustpub's action.yml: a ``uses: ./`` step running it publishes."""


def _local_publish_actions(root: Path) -> frozenset[str]:
    """``./`` if ``root`` is trustpub's own repository (its action.yml at the top)."""
    try:
        text = (root / "action.yml").read_text(encoding="utf-8")[:MAX_FILE_BYTES]
        data = parse(text).data
    except (OSError, UnicodeDecodeError, YamlProblem):
        return frozenset()
    named = isinstance(data, dict) and data.get("name") == OUR_ACTION_NAME
    return frozenset({"./"}) if named else frozenset()


def _declared_line(pyproject: Path, key: str) -> int:
    """The line of ``key = ...`` in ``[tool.trustpub.publisher]`` (1 when not found)."""
    try:
        lines = pyproject.read_text(encoding="utf-8")[:MAX_FILE_BYTES].splitlines()
    except (OSError, UnicodeDecodeError):
        return 1
    inside = False
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if text.startswith("["):
            inside = text.replace(" ", "") == "[tool.trustpub.publisher]"
        elif inside and text.split("=", 1)[0].strip() == key:
            return number
    return 1


def _repository_findings(root: Path, publisher: Publisher | None) -> list[CheckFinding]:
    """The declared repository against the git remote (case-insensitive: remotes need not
    spell the canonical case; PyPI's own comparison is shown by ``trustpub claims``)."""
    if publisher is None or not publisher.repository:
        return []
    from trustpub.setup.detect import git_remote

    remote = git_remote(root)
    if remote is None or remote.provider is not publisher.provider:
        return []
    if remote.repository.lower() == publisher.repository.lower():
        return []
    return [
        CheckFinding(
            "repository",
            "pyproject.toml",
            _declared_line(root / "pyproject.toml", "repository"),
            f"the publisher names repository {publisher.repository}, but the git remote is "
            f"{remote.repository}",
            f'repository = "{remote.repository}"   # and register it on PyPI',
        )
    ]


def run_check(root: Path, publisher: Publisher | None) -> CheckReport:
    """Check the CI files under ``root`` against ``publisher`` (None: PyPI's rules only)."""
    findings: list[CheckFinding] = []
    workflows: list[Workflow] = []
    local = _local_publish_actions(root)
    for rel in workflow_files(root):
        doc = _read(root, rel)
        if isinstance(doc, CheckFinding):
            findings.append(doc)
        else:
            workflows.append(Workflow(rel, doc, local))
    pipeline = _pipeline_files(root, findings)
    findings.extend(check_workflows(workflows, publisher))
    findings.extend(check_pipeline(pipeline, publisher))
    if workflows or pipeline:
        findings.extend(_repository_findings(root, publisher))
    findings.sort(key=lambda f: (f.file, f.line, f.kind))
    return CheckReport(
        files=tuple([w.path for w in workflows] + [p.path for p in pipeline]),
        jobs=tuple(github_jobs(workflows) + gitlab_jobs(pipeline)),
        findings=tuple(dict.fromkeys(findings)),
        publisher=publisher,
    )


def running_job_file(env: Mapping[str, str], provider: str) -> tuple[Path, str] | None:
    """(checkout root, relative path) of the CI file that defines the running job.

    GitHub: ``GITHUB_WORKFLOW_REF`` (``owner/repo/.github/workflows/f.yml@ref``) under
    ``GITHUB_WORKSPACE``; GitLab: ``CI_CONFIG_PATH`` (default ``.gitlab-ci.yml``) under
    ``CI_PROJECT_DIR``. None when unknown or when the file is not in the checkout.
    """
    if provider == "github":
        ref = env.get("GITHUB_WORKFLOW_REF", "").split("@", 1)[0]
        _, marker, name = ref.partition(f"/{WORKFLOWS_DIR}/")
        rel = f"{WORKFLOWS_DIR}/{name}" if marker and name and "/" not in name else None
        root = env.get("GITHUB_WORKSPACE")
    elif provider == "gitlab":
        rel = env.get("CI_CONFIG_PATH") or TOP_LEVEL
        rel = rel if "://" not in rel and "@" not in rel and ".." not in rel else None
        root = env.get("CI_PROJECT_DIR")
    else:
        return None
    base = Path(root) if root else Path.cwd()
    if rel is None or not (base / rel).is_file():
        return None
    return base, rel


def check_running_job(
    env: Mapping[str, str], provider: str, publisher: Publisher | None
) -> list[CheckFinding]:
    """The findings for the CI file of the running job (empty when it is not checked out)."""
    located = running_job_file(env, provider)
    if located is None:
        return []
    root, rel = located
    report = run_check(root, publisher)
    if provider == "github":
        return [f for f in report.findings if f.file == rel]
    return [f for f in report.findings if not f.file.startswith(WORKFLOWS_DIR)]


__all__ = [
    "MAX_FILE_BYTES",
    "CheckReport",
    "check_running_job",
    "run_check",
    "running_job_file",
    "workflow_files",
]
