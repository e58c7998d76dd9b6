"""Run one command and report its own resource use (a tiny launcher).

Usage: ``python -I -S _launch.py OUT.json COMMAND [ARG...]``

Linux carries a process's memory high-water mark across ``exec`` into the
child's ``ru_maxrss``; a child forked from the (big) benchmark process would
inherit the parent's peak. This launcher is small, forks with ``os.fork`` (not
vfork), ``exec``s the command and collects the child's rusage with
``os.wait4``, so the peak RSS reported is the command's own (floor: this
launcher's few MiB). Wall time is measured here, from fork to reap.
"""

import json
import os
import sys
import time


def main() -> int:
    out, command = sys.argv[1], sys.argv[2:]
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.execvp(command[0], command)  # noqa: S606 - running the measured command is the point
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(
            {
                "wall": wall,
                "user": usage.ru_utime,
                "sys": usage.ru_stime,
                "maxrss_kib": usage.ru_maxrss,
                "returncode": code,
            },
            handle,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
