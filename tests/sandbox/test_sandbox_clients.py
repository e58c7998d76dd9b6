"""Real clients against the sandbox: twine uploads with a minted token, pip installs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fixtures_dists import make_sdist, make_wheel
from helpers_sandbox import Sandbox, unique_name


def isolated_env(box: Sandbox, tmp_path: Path) -> dict[str, str]:
    """The environment for a client that must see only the sandbox (no pip config, no mirrors)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(box.env())
    assert box.ca_cert is not None
    env.update(
        {
            "PIP_CONFIG_FILE": os.devnull,
            "PIP_CERT": str(box.ca_cert),
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "HOME": str(tmp_path),
        }
    )
    return env


def test_twine_upload_with_a_minted_token_then_pip_install(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    project = unique_name("twine-pkg")
    repository = f"octo/{project}"
    sandbox.add_publisher(
        provider="github",
        repository=repository,
        workflow="release.yml",
        projects=[project],
        pending=True,
    )
    token = sandbox.minted_token("github", repository=repository)
    dist = tmp_path / "dist"
    wheel = make_wheel(dist, name=project, version="0.3.0", requires_python=">=3.8")
    sdist = make_sdist(dist, name=project, version="0.3.0")
    env = isolated_env(sandbox, tmp_path)
    upload = subprocess.run(
        [
            sys.executable,
            "-m",
            "twine",
            "upload",
            "--non-interactive",
            "--disable-progress-bar",
            "--repository-url",
            sandbox.upload_url,
            "-u",
            "__token__",
            "-p",
            token,
            str(wheel),
            str(sdist),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert upload.returncode == 0, upload.stdout + upload.stderr
    # twine shows the reason phrase, where PyPI (and the sandbox) put the message
    changed = make_wheel(tmp_path / "changed", name=project, version="0.3.0", summary="other")
    again = subprocess.run(
        [
            sys.executable,
            "-m",
            "twine",
            "upload",
            "--non-interactive",
            "--disable-progress-bar",
            "--repository-url",
            sandbox.upload_url,
            "-u",
            "__token__",
            "-p",
            token,
            str(changed),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert again.returncode != 0
    assert "File already exists" in again.stdout + again.stderr

    target = tmp_path / "site"
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-cache-dir",
            "--target",
            str(target),
            "--index-url",
            sandbox.simple_url,
            "--cert",
            str(sandbox.ca_cert),
            f"{project}==0.3.0",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    dist_info = project.replace("-", "_") + "-0.3.0.dist-info"
    assert (target / dist_info).is_dir()


def test_uv_publish_trusted_publishing_with_a_plain_publisher(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """``uv publish --trusted-publishing always`` through a non-pending publisher: its project
    exists from the start, as on PyPI, so uv's exchange and upload both succeed."""
    project = unique_name("uv-pkg")
    repository = f"octo/{project}"
    sandbox.add_publisher(
        provider="github", repository=repository, workflow="release.yml", projects=[project]
    )
    job = sandbox.job(provider="github", repository=repository)
    dist = tmp_path / "dist"
    files = [
        make_wheel(dist, name=project, version="1.2.0"),
        make_sdist(dist, name=project, version="1.2.0"),
    ]
    env = {**isolated_env(sandbox, tmp_path), **job["env"]}
    env.pop("UV_PUBLISH_TOKEN", None)
    env.update({"UV_NO_CONFIG": "1", "UV_CACHE_DIR": str(tmp_path / "uv-cache")})
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "uv",
            "publish",
            "--trusted-publishing",
            "always",
            "--publish-url",
            sandbox.upload_url,
            *map(str, files),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    with sandbox.client() as client:
        urls = client.get(f"/pypi/{project}/json").json()["urls"]
    assert sorted(url["filename"] for url in urls) == sorted(path.name for path in files)
