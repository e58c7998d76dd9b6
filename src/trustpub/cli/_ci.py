"""Small, safe writers for CI integration files and workflow commands.

* ``GITHUB_OUTPUT``: one ``name=value`` line per output, or the multi-line
  delimiter form (``name<<DELIM`` ... ``DELIM``) with a random delimiter that is
  checked not to occur in the value, so a value can never inject a second output.
* ``GITHUB_STEP_SUMMARY``: markdown appended to the file GitHub renders.
* Workflow commands (``::error::``, ``::group::``): their data and properties
  escaped the way the runner unescapes them.
* GitLab collapsible sections (``section_start``/``section_end`` lines).

Nothing here prints: the helpers return text or append to the files the CI
names. Values should already be free of secrets; outputs are scrubbed again when written.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

from trustpub._secret import Secret, github_mask_command, scrub
from trustpub.cli._common import one_line
from trustpub.sandbox import SIMULATED_JOB_ENV

_OUTPUT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")
_SECTION_NAME = re.compile(r"[^A-Za-z0-9_.\-]")


def is_github_actions(env: Mapping[str, str] | None = None) -> bool:
    """True inside a GitHub Actions job."""
    env = os.environ if env is None else env
    return env.get("GITHUB_ACTIONS") == "true"


def is_gitlab_ci(env: Mapping[str, str] | None = None) -> bool:
    """True inside a GitLab CI/CD job."""
    env = os.environ if env is None else env
    return env.get("GITLAB_CI") == "true"


WITHHELD_MASK = "::add-mask::*** (value withheld: simulated job, output is a terminal)"
"""What a simulated job prints on a terminal in place of ``::add-mask::<token>``."""


def is_simulated_job(env: Mapping[str, str] | None = None) -> bool:
    """True in a job made by ``trustpub sandbox env`` (a rehearsal, not a real runner)."""
    env = os.environ if env is None else env
    return bool(env.get(SIMULATED_JOB_ENV))


def mask_line(secret: Secret, stream: IO[str], env: Mapping[str, str] | None = None) -> str:
    """The ``::add-mask::`` line for ``secret``, as it may be written to ``stream``.

    A real runner reads the job's output through a pipe and needs the value to mask it.
    A rehearsal in a terminal has no runner to hide the line, so there the value is
    withheld: the line shows where masking happens without showing the token.
    """
    isatty = getattr(stream, "isatty", None)
    if is_simulated_job(env) and callable(isatty) and isatty():
        return WITHHELD_MASK
    return github_mask_command(secret)


def format_output(name: str, value: str) -> str:
    """One ``GITHUB_OUTPUT`` entry (with its trailing newline)."""
    if not _OUTPUT_NAME.match(name):
        raise ValueError(f"invalid output name {name!r}")
    if "\n" not in value and "\r" not in value:
        return f"{name}={value}\n"
    while True:
        delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
        if delimiter not in value:
            break
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


def write_outputs(values: Mapping[str, str], env: Mapping[str, str] | None = None) -> bool:
    """Append outputs to ``$GITHUB_OUTPUT``; False when there is no such file."""
    env = os.environ if env is None else env
    target = env.get("GITHUB_OUTPUT")
    if not target:
        return False
    # Values can carry index-supplied text (per-file refusal messages): scrub secrets.
    text = "".join(format_output(name, scrub(value)) for name, value in values.items())
    with Path(target).open("a", encoding="utf-8") as stream:
        stream.write(text)
    return True


def append_step_summary(markdown: str, env: Mapping[str, str] | None = None) -> bool:
    """Append markdown to ``$GITHUB_STEP_SUMMARY``; False when there is no such file."""
    env = os.environ if env is None else env
    target = env.get("GITHUB_STEP_SUMMARY")
    if not target:
        return False
    if not markdown.endswith("\n"):
        markdown += "\n"
    with Path(target).open("a", encoding="utf-8") as stream:
        stream.write(markdown)
    return True


def escape_data(text: str) -> str:
    """Escape the message part of a workflow command."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value (``title=...``) of a workflow command."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_command(command: str, message: str = "", **properties: str) -> str:
    """``::command prop=value,...::message`` (no trailing newline).

    Secrets are scrubbed before escaping (an escaped encoding would no longer be
    recognised), and the older ``##[`` command form is defused inside.
    """
    props = ",".join(
        f"{key}={escape_property(_defuse_v1(scrub(value)))}" for key, value in properties.items()
    )
    head = f"::{command} {props}" if props else f"::{command}"
    return f"{head}::{escape_data(_defuse_v1(scrub(message)))}"


def _defuse_v1(text: str) -> str:
    return text.replace("##[", "#\\#[")


def gitlab_section_start(name: str, header: str, *, collapsed: bool = True) -> str:
    """The line that opens a collapsible section in a GitLab job log."""
    safe = _SECTION_NAME.sub("_", name)
    option = "[collapsed=true]" if collapsed else ""
    return f"\x1b[0Ksection_start:{int(time.time())}:{safe}{option}\r\x1b[0K{one_line(header)}"


def gitlab_section_end(name: str) -> str:
    """The line that closes a section opened by :func:`gitlab_section_start`."""
    safe = _SECTION_NAME.sub("_", name)
    return f"\x1b[0Ksection_end:{int(time.time())}:{safe}\r\x1b[0K"


def markdown_cell(text: str) -> str:
    """Text made safe for one cell of a markdown table (see :func:`markdown_text`)."""
    return markdown_text(text)


# Characters that start markdown or HTML constructs (links, images, code, tags,
# emphasis, tables). ``_`` and ``-``/``.`` are left alone: file names are full of them.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*\[\]()!|~#{}])")


def markdown_text(text: str) -> str:
    """Outside text as inert markdown on one line: no link, image, HTML, code or table break."""
    flat = one_line(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", flat)


def markdown_code(text: str) -> str:
    """Outside text as one inline code span (safe in a table cell)."""
    flat = one_line(text).replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def markdown_fence(lines: Sequence[str]) -> list[str]:
    """Outside lines as a fenced code block that no line inside can close."""
    body = [one_line(line) for line in lines]
    longest = max((len(run) for line in body for run in re.findall(r"`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence, *body, fence]


def markdown_url(url: str) -> str:
    """A URL for a markdown link target: characters that could end it are percent-encoded."""
    return re.sub(r"[\s()<>\[\]\\`\"']", lambda m: f"%{ord(m.group(0)):02X}", one_line(url))


__all__ = [
    "WITHHELD_MASK",
    "append_step_summary",
    "escape_data",
    "escape_property",
    "format_output",
    "gitlab_section_end",
    "gitlab_section_start",
    "is_github_actions",
    "is_gitlab_ci",
    "is_simulated_job",
    "markdown_cell",
    "markdown_code",
    "markdown_fence",
    "markdown_text",
    "markdown_url",
    "mask_line",
    "workflow_command",
    "write_outputs",
]
