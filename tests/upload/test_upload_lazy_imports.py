"""Validation imports docutils (slow) only when a README is reStructuredText."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from fixtures_dists import BAD_RST, make_wheel

CHECK = (
    "import json, sys\n"
    "from pathlib import Path\n"
    "from trustpub.upload.validate import validate\n"
    "loaded_at_import = 'docutils' in sys.modules\n"
    "try:\n"
    "    validate([Path(sys.argv[1])])\n"
    "    ok = True\n"
    "except Exception:\n"
    "    ok = False\n"
    "print(json.dumps([loaded_at_import, 'docutils' in sys.modules, ok]))\n"
)


def _run(wheel: Path) -> list[bool]:
    done = subprocess.run(
        [sys.executable, "-c", CHECK, str(wheel)], capture_output=True, text=True, check=True
    )
    result: list[bool] = json.loads(done.stdout)
    return result


def test_markdown_readme_does_not_load_docutils(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, description_content_type="text/markdown")
    assert _run(wheel) == [False, False, True]


def test_rst_readme_still_checked(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, description=BAD_RST, description_content_type="text/x-rst")
    assert _run(wheel) == [False, True, False]
