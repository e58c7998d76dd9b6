"""The sandbox loads anyio's thread machinery before it announces itself."""

from __future__ import annotations

import subprocess
import sys

CODE = (
    "import asyncio, sys\n"
    "from trustpub.sandbox import server\n"
    "before = 'anyio._backends._asyncio' in sys.modules\n"
    "asyncio.run(server._warm_up())\n"
    "print(before, 'anyio._backends._asyncio' in sys.modules)\n"
)


def test_warm_up_loads_the_asyncio_backend() -> None:
    done = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "True"]
