"""The files ``trustpub init`` writes: a GitHub workflow or a GitLab pipeline.

Shape (the one ``trustpub check`` has no finding on): the build runs in a job without the
publishing identity and hands ``dist/`` over as an artifact; each index gets its own
publishing job in its own environment, the only job with ``id-token: write`` (GitHub) or
``id_tokens:`` (GitLab, with a ``sigstore`` token for attestations). trustpub is pinned to
the version that wrote the file: the action at a commit when one is given
(``action_commit``), otherwise an exact ``pip install``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from trustpub import __version__
from trustpub._gitlab import token_env_name
from trustpub.oidc.publishers import Provider
from trustpub.oidc.validity import SIGSTORE_AUDIENCE

Trigger = Literal["release", "tag"]
INDEX_HOSTS = {"pypi": "https://pypi.org", "testpypi": "https://test.pypi.org"}
INDEX_TITLES = {"pypi": "PyPI", "testpypi": "TestPyPI"}

# Pinned by commit (the tag in the comment); zizmor and `trustpub check` want commits.
CHECKOUT = "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1"
SETUP_PYTHON = "actions/setup-python@5fda3b95a4ea91299a34e894583c3862153e4b97 # v7.0.0"
UPLOAD_ARTIFACT = "actions/upload-artifact@bbbca2ddaa5d8feaa63e36b76fdaad77386f024f # v7.0.0"
DOWNLOAD_ARTIFACT = "actions/download-artifact@3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c # v8.0.1"
ACTION_REPOSITORY = "trustpub/trustpub"
PYTHON_VERSION = "3.13"


@dataclass(frozen=True)
class Plan:
    """Everything the templates need (all values already validated)."""

    provider: Provider
    project: str
    repository: str
    workflow: str
    """GitHub: the file name in .github/workflows; GitLab: .gitlab-ci.yml."""
    indexes: tuple[str, ...]
    """``("pypi",)``, ``("testpypi",)`` or ``("testpypi", "pypi")`` (TestPyPI first)."""
    environments: dict[str, str]
    """Index -> environment name."""
    trigger: Trigger = "release"
    version: str = __version__
    action_commit: str | None = None
    attestations: bool = True
    """False where PyPI refuses them (a self-managed GitLab instance)."""

    @property
    def main_index(self) -> str:
        """The index whose environment is declared in ``[tool.trustpub.publisher]``."""
        return self.indexes[-1]

    def publish_args(self, index: str) -> str:
        """trustpub's arguments for one index (``--expect`` where it differs from pyproject)."""
        args = []
        if index != "pypi":
            args.append(f"--repository {index}")
        if self.environments[index] != self.environments[self.main_index]:
            args.append(f"--expect environment={self.environments[index]}")
        return " ".join([*args, "dist/"])


def _header(plan: Plan, comment: str) -> str:
    lines = [
        f"{comment} Written by `trustpub init` (trustpub {plan.version}): build once, then publish",
        f"{comment} with Trusted Publishing. Check it with `trustpub check`.",
    ]
    lines.extend(
        f"{comment} {INDEX_TITLES[index]} publisher: {plan.repository}, {plan.workflow}, "
        f"environment {plan.environments[index]}"
        for index in plan.indexes
    )
    return "\n".join(lines) + "\n"


def _github_trigger(plan: Plan) -> str:
    if plan.trigger == "tag":
        return 'on:\n  push:\n    tags:\n      - "v*"\n'
    return "on:\n  release:\n    types: [published]\n"


def _github_build() -> str:
    return f"""\
  build:
    name: Build distributions
    runs-on: ubuntu-latest
    permissions:
      contents: read
    steps:
      - uses: {CHECKOUT}
        with:
          persist-credentials: false
      - uses: {SETUP_PYTHON}
        with:
          python-version: "{PYTHON_VERSION}"
      - name: Build sdist and wheel
        run: |
          python -m pip install --disable-pip-version-check build
          python -m build
      - uses: {UPLOAD_ARTIFACT}
        with:
          name: dists
          path: dist/
          if-no-files-found: error
"""


def _github_publish_step(plan: Plan, index: str) -> str:
    if plan.action_commit:
        inputs = ["attestations: true"]
        if index != "pypi":
            inputs.append(f"repository-url: {index}")
        if plan.environments[index] != plan.environments[plan.main_index]:
            inputs.append(f"expect: environment={plan.environments[index]}")
        body = "".join(f"          {line}\n" for line in inputs)
        return (
            f"      - name: Publish with trustpub\n"
            f"        uses: {ACTION_REPOSITORY}@{plan.action_commit} # v{plan.version}\n"
            f"        with:\n{body}"
        )
    return f"""\
      - uses: {SETUP_PYTHON}
        with:
          python-version: "{PYTHON_VERSION}"
      - name: Publish with trustpub
        run: |
          python -m pip install --disable-pip-version-check "trustpub=={plan.version}"
          python -m trustpub publish --attestations auto {plan.publish_args(index)}
"""


def _github_publish_job(plan: Plan, index: str, needs: str) -> str:
    return f"""\
  publish-{index}:
    name: Publish to {INDEX_TITLES[index]}
    needs: {needs}
    runs-on: ubuntu-latest
    environment:
      name: {plan.environments[index]}
      url: {INDEX_HOSTS[index]}/p/{plan.project}
    permissions:
      contents: read
      id-token: write # this job only: it mints the upload token
    steps:
      # The checkout gives trustpub pyproject.toml's [tool.trustpub.publisher] and this
      # workflow to check against the job's identity; nothing from it is built or run.
      - uses: {CHECKOUT}
        with:
          persist-credentials: false
      - uses: {DOWNLOAD_ARTIFACT}
        with:
          name: dists
          path: dist/
{_github_publish_step(plan, index)}"""


def github_workflow(plan: Plan) -> str:
    """``.github/workflows/<plan.workflow>``."""
    jobs = [_github_build()]
    needs = "build"
    for index in plan.indexes:
        jobs.append(_github_publish_job(plan, index, needs))
        needs = f"publish-{index}"
    return (
        _header(plan, "#")
        + f"name: {plan.workflow.rsplit('.', 1)[0]}\n\n"
        + _github_trigger(plan)
        + "\npermissions: {}\n\n"
        + "# One release at a time; a second one waits instead of racing the first.\n"
        + "concurrency:\n  group: ${{ github.workflow }}-${{ github.ref }}\n"
        + "  cancel-in-progress: false\n\njobs:\n"
        + "\n".join(jobs)
    )


def _gitlab_publish_job(plan: Plan, index: str, needs: str) -> str:
    sigstore = ""
    attest = "--attestations off"  # PyPI verifies GitLab attestations for gitlab.com only
    if plan.attestations:
        name = token_env_name(SIGSTORE_AUDIENCE)
        sigstore = f"    {name}:\n      aud: {SIGSTORE_AUDIENCE}\n"
        attest = "--attestations auto"
    return f"""\
publish-{index}:
  stage: publish
  image: python:{PYTHON_VERSION}-slim
  needs: [{needs}]
  rules:
    - if: $CI_COMMIT_TAG
  environment:
    name: {plan.environments[index]}
    url: {INDEX_HOSTS[index]}/p/{plan.project}
  id_tokens:
    {token_env_name(index)}:
      aud: {index}
{sigstore}  script:
    - python -m pip install --disable-pip-version-check "trustpub=={plan.version}"
    - python -m trustpub publish {attest} {plan.publish_args(index)}
"""


def gitlab_pipeline(plan: Plan) -> str:
    """``.gitlab-ci.yml``: a build job and one publishing job per index, on tags."""
    jobs = [
        f"""\
stages: [build, publish]

build:
  stage: build
  image: python:{PYTHON_VERSION}-slim
  rules:
    - if: $CI_COMMIT_TAG
  script:
    - python -m pip install --disable-pip-version-check build
    - python -m build
  artifacts:
    paths: [dist/]
"""
    ]
    needs = "build"
    for index in plan.indexes:
        jobs.append(_gitlab_publish_job(plan, index, needs))
        needs = f"build, publish-{index}"
    return _header(plan, "#") + "\n" + "\n".join(jobs)


__all__ = ["INDEX_HOSTS", "INDEX_TITLES", "Plan", "Trigger", "github_workflow", "gitlab_pipeline"]
