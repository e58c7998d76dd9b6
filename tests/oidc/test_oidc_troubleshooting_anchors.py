"""Every troubleshooting anchor trustpub can print has an entry in docs/troubleshooting.md."""

from __future__ import annotations

import re
from pathlib import Path

from trustpub.upload.refusals import REFUSALS

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "troubleshooting.md"
SRC = ROOT / "src" / "trustpub"

MINT_CODES = {
    "invalid-publisher",
    "invalid-pending-publisher",
    "invalid-reuse-token",
    "invalid-token",
    "invalid-payload",
    "unknown-issuer",
    "not-enabled",
}


def documented() -> set[str]:
    return set(re.findall(r"^### ([a-z0-9-]+)$", DOC.read_text(encoding="utf-8"), re.MULTILINE))


def entries() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    parts = re.split(r"^### ([a-z0-9-]+)$", text, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_each_entry_has_symptom_cause_fix() -> None:
    for anchor, body in entries().items():
        for label in ("**Symptom:**", "**Cause:**", "**Fix:**"):
            assert label in body, f"{anchor}: missing {label}"


def test_oidc_anchors_are_documented() -> None:
    preflight_ids: set[str] = set()
    for path in (SRC / "providers").glob("*.py"):
        preflight_ids |= set(
            re.findall(r'Finding\(\s*"([a-z0-9-]+)"', path.read_text(encoding="utf-8"))
        )
    upload_anchors = {cause.anchor for cause in REFUSALS}
    audience = {"not-enabled", "no-trusted-publishing", "unexpected-audience-response"}
    wanted = MINT_CODES | preflight_ids | upload_anchors | audience
    assert preflight_ids, "the preflight scan found nothing"
    assert wanted - documented() == set()


def test_every_literal_anchor_in_src_is_documented() -> None:
    used: set[str] = set()
    for path in SRC.rglob("*.py"):
        used |= set(re.findall(r'anchor="([a-z0-9-]+)"', path.read_text(encoding="utf-8")))
    assert used, "the scan found no anchors"
    assert used - documented() == set()
