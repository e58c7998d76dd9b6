"""The trustpub command does not import httpx's own command line (click/rich/pygments extras)."""

from __future__ import annotations

import json
import subprocess
import sys

CHECK = (
    "import json, sys\n"
    "sys.argv = ['trustpub', 'publish', '--no-keyring', '-r', 'http://127.0.0.1:9/legacy/',\n"
    "            sys.argv[1]]\n"
    "from trustpub.cli import main\n"
    "try:\n"
    "    main()\n"
    "except SystemExit as stop:\n"
    "    code = stop.code\n"
    "import httpx\n"
    "print(json.dumps({'code': code, 'httpx': 'httpx' in sys.modules,\n"
    "    'main_blocked': sys.modules.get('httpx._main', 'absent') is None,\n"
    "    'pygments': 'pygments' in sys.modules, 'rich_syntax': 'rich.syntax' in sys.modules,\n"
    "    'stub_main': callable(httpx.main), 'client': httpx.Client.__name__}))\n"
)


def test_publish_skips_httpx_command_line_but_httpx_works(tmp_path: object) -> None:
    missing = f"{tmp_path}/absent-1.0-py3-none-any.whl"
    done = subprocess.run(
        [sys.executable, "-c", CHECK, missing], capture_output=True, text=True, check=True
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {
        "code": 3,  # the missing file: validation ran after httpx was imported
        "httpx": True,
        "main_blocked": True,
        "pygments": False,
        "rich_syntax": False,
        "stub_main": True,
        "client": "Client",
    }
    assert "no such file or directory" in done.stderr


def test_httpx_imported_first_is_left_alone() -> None:
    """When httpx is already imported (a library user, a test run), main() changes nothing."""
    code = (
        "import sys, httpx\n"
        "before = sys.modules.get('httpx._main', 'absent')\n"
        "sys.argv = ['trustpub', '--bogus']\n"
        "from trustpub.cli import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sys.modules.get('httpx._main', 'absent') is before)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "True"
