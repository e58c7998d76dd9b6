"""GITHUB_OUTPUT / step summary writers, workflow-command escaping, GitLab sections."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from trustpub.cli import _ci


def parse_github_output(text: str) -> dict[str, str]:
    """Parse a GITHUB_OUTPUT file the way the runner does (both forms)."""
    values: dict[str, str] = {}
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            body: list[str] = []
            while lines[index] != delimiter:
                body.append(lines[index])
                index += 1
            index += 1
            values[name] = "\n".join(body)
        else:
            name, value = line.split("=", 1)
            values[name] = value
    return values


def test_single_line_output() -> None:
    assert _ci.format_output("project-url", "https://x/") == "project-url=https://x/\n"


def test_multiline_output_uses_a_fresh_delimiter(tmp_path: Path) -> None:
    target = tmp_path / "out"
    value = "line one\nghadelimiter_fake\nEOF\nlast=1"
    assert _ci.write_outputs({"files": value, "ok": "true"}, {"GITHUB_OUTPUT": str(target)})
    text = target.read_text()
    assert re.search(r"^files<<ghadelimiter_[0-9a-f]{32}$", text, re.MULTILINE)
    assert parse_github_output(text) == {"files": value, "ok": "true"}


def test_outputs_append_and_can_be_absent(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.write_text("earlier=1\n")
    _ci.write_outputs({"a": "b"}, {"GITHUB_OUTPUT": str(target)})
    assert parse_github_output(target.read_text()) == {"earlier": "1", "a": "b"}
    assert not _ci.write_outputs({"a": "b"}, {})


def test_output_name_is_checked() -> None:
    with pytest.raises(ValueError, match="invalid output name"):
        _ci.format_output("bad\nname", "x")


def test_step_summary_appends(tmp_path: Path) -> None:
    target = tmp_path / "summary.md"
    env = {"GITHUB_STEP_SUMMARY": str(target)}
    assert _ci.append_step_summary("# one", env)
    assert _ci.append_step_summary("two\n", env)
    assert target.read_text() == "# one\ntwo\n"
    assert not _ci.append_step_summary("x", {})


def test_workflow_command_escaping() -> None:
    line = _ci.workflow_command("error", "100% broken\nsecond line\r", title="a: b, c")
    assert line == "::error title=a%3A b%2C c::100%25 broken%0Asecond line%0D"
    assert _ci.workflow_command("endgroup") == "::endgroup::"


def test_gitlab_sections() -> None:
    start = _ci.gitlab_section_start("trustpub publish!", "Uploading")
    assert re.fullmatch(
        r"\x1b\[0Ksection_start:\d+:trustpub_publish_\[collapsed=true\]\r\x1b\[0KUploading", start
    )
    end = _ci.gitlab_section_end("trustpub publish!")
    assert re.fullmatch(r"\x1b\[0Ksection_end:\d+:trustpub_publish_\r\x1b\[0K", end)


def test_markdown_cell_escapes_pipes() -> None:
    # The line break stays visible as an escape (rendered: a|b\nc), never a new line.
    assert _ci.markdown_cell("a|b\nc") == "a\\|b\\\\nc"


def test_markdown_helpers_keep_outside_text_inert() -> None:
    hostile = "x\n```\n![img](https://evil.example/p.png) <img src=x> [a](b) | c"
    text = _ci.markdown_text(hostile)
    assert "\n" not in text
    for construct in ("![", "](", "<img", "[a]", "```", " | "):
        assert construct not in text, construct
    fenced = _ci.markdown_fence(["fine", "a ```` run", "```"])
    assert fenced[0] == fenced[-1] == "`````"
    assert all("\n" not in line for line in fenced)
    code = _ci.markdown_code("a`b|c\nd")
    assert code == "``a`b\\|c\\nd``"
    assert _ci.markdown_url("https://x/a b)(<") == "https://x/a%20b%29%28%3C"


def test_ci_detection() -> None:
    assert _ci.is_github_actions({"GITHUB_ACTIONS": "true"})
    assert not _ci.is_github_actions({})
    assert _ci.is_gitlab_ci({"GITLAB_CI": "true"})
    assert not _ci.is_gitlab_ci({"GITLAB_CI": "false"})


def test_outputs_never_carry_a_known_secret(tmp_path: Path) -> None:
    from trustpub._secret import REDACTED, Secret, forget_all

    forget_all()
    secret = Secret("pypi-OutputCanaryTokenValue0123456789abcdef")
    target = tmp_path / "out"
    _ci.write_outputs(
        {"files": f'[{{"message": "{secret.reveal()}"}}]'}, {"GITHUB_OUTPUT": str(target)}
    )
    text = target.read_text()
    forget_all()
    assert "OutputCanaryTokenValue" not in text
    assert REDACTED in text
