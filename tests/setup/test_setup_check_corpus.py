"""``trustpub check`` on the corpus: every expected finding at its line, nothing else.

Each case records what PyPI answers (``# pypi:``, read from Warehouse 6b62157:
``warehouse/oidc/models/github.py`` and ``gitlab.py``, the lookup and environment rules;
``_check_event_name`` for pull_request_target).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus_cases import Case, all_cases

from trustpub.oidc.publishers import parse_publisher_spec
from trustpub.setup.check import run_check
from trustpub.setup.findings import KINDS

CASES = all_cases()


def _run(case: Case, root: Path) -> set[tuple[str, str, int]]:
    case.write(root)
    publisher = parse_publisher_spec(case.publisher) if case.publisher else None
    report = run_check(root, publisher)
    for finding in report.findings:
        assert finding.kind in KINDS
        assert finding.message
        assert finding.fix or finding.kind == "invalid-yaml"
    return {(f.file, f.kind, f.line) for f in report.findings}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_corpus_case(case: Case, tmp_path: Path) -> None:
    found = _run(case, tmp_path)
    assert found == set(case.expected), case.description


def test_corpus_is_broad() -> None:
    """At least 25 files; correct ones; every finding kind alone and in combination."""
    assert len(CASES) >= 25
    correct = [c for c in CASES if not c.expected]
    assert len(correct) >= 8
    kinds = {kind for case in CASES for _, kind, _ in case.expected}
    # "repository" needs a git remote, which corpus files cannot carry: test_setup_init tests it
    assert kinds == set(KINDS) - {"repository"}
    combined = [c for c in CASES if len({k for _, k, _ in c.expected}) >= 3]
    assert len(combined) >= 4
    for case in CASES:
        assert case.pypi, case.name


def test_a_finding_can_fail_the_case(tmp_path: Path) -> None:
    """The comparison is exact: removing a marker makes the case fail."""
    case = next(c for c in CASES if c.name == "gh-missing-id-token")
    assert _run(case, tmp_path) != set()


def test_every_kind_has_a_troubleshooting_entry() -> None:
    page = (Path(__file__).resolve().parents[2] / "docs" / "troubleshooting.md").read_text(
        encoding="utf-8"
    )
    headings = {line[4:].strip() for line in page.splitlines() if line.startswith("### ")}
    for kind in KINDS:
        assert f"check-{kind}" in headings, kind
