"""``trustpub sandbox demo`` end to end, and its self-built example distributions."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers_e2e import child_env

from trustpub.sandbox.demo import DEMO_NAME, DEMO_VERSION, build_sdist, build_wheel
from trustpub.upload.validate import validate

pytestmark = pytest.mark.e2e


def test_demo_builds_valid_distributions(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path)
    sdist = build_sdist(tmp_path)
    dists = validate([wheel, sdist], check=True)
    assert {d.filename for d in dists} == {
        "hello_trustpub-1.0.0-py3-none-any.whl",
        "hello_trustpub-1.0.0.tar.gz",
    }
    assert {(d.name, d.version) for d in dists} == {(DEMO_NAME, DEMO_VERSION)}


def test_demo_runs_every_step(tmp_path: Path) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "trustpub", "sandbox", "demo"],
        env=child_env({"TMPDIR": str(temp)}),
        cwd=work,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    steps = re.findall(r"^Step (\d)/7: ", result.stdout, re.MULTILINE)
    assert steps == [str(n) for n in range(1, 8)]
    assert "job_workflow_ref = octo-org/hello-trustpub/.github/workflows/release.yml@" in (
        result.stdout
    )
    assert "hello_trustpub-1.0.0-py3-none-any.whl: uploaded (attestation: signed)" in result.stdout
    assert (
        "PEP 740 attestations signed by https://github.com/octo-org/hello-trustpub/"
        ".github/workflows/release.yml@refs/tags/v1.0.0" in result.stdout
    )
    assert re.search(
        r"provenance \(as PyPI serves it\): https://127\.0\.0\.1:\d+/integrity/hello-trustpub/1\.0\.0/"
        r"hello_trustpub-1\.0\.0-py3-none-any\.whl/provenance",
        result.stdout,
    )
    assert "'Hello from a trusted publisher!'" in result.stdout
    assert "Demo complete" in result.stdout
    # No token of any kind: no masks, no JWTs, no minted tokens.
    output = result.stdout + result.stderr
    assert "::add-mask::" not in output
    assert not re.search(r"eyJ[A-Za-z0-9_-]{10,}\.", output)
    assert not re.search(r"pypi-[A-Za-z0-9_-]{10,}", output)
    # Everything it made is gone: the work directory and the sandbox's state.
    assert not list(work.iterdir())
    assert not list(temp.glob("trustpub-demo-*"))
