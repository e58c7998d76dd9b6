"""The upload phase of a minimal client: what the sandbox and this machine allow.

``python bench/_ideal_upload.py OUT.json UPLOAD_URL TOKEN JOBS FILE...``

The release case's floor counts only the sandbox's latency. Each upload also
costs the sandbox CPU (reading the form, PyPI's checks, storing the file) and
the client some CPU, on a machine trustpub shares with the sandbox. This
client does as little as a client can: every request body is built before the
clock starts (with trustpub's own form, so the sandbox does the same work),
then the first file goes alone and the rest ``JOBS`` at a time over keep-alive
connections with :mod:`http.client`, as trustpub orders them. No start-up, no
validation, no output: the time it reports is the upload phase alone, so a
real client (start-up included) cannot beat it on this machine. Writes
``{"wall": seconds, "cpu": seconds of this process during the phase}``.
"""

from __future__ import annotations

import base64
import http.client
import json
import queue
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from trustpub.upload.multipart import MultipartBody, form_fields
from trustpub.upload.validate import validate


def main(argv: list[str]) -> int:
    out, url, token, jobs_text, *paths = argv
    jobs = int(jobs_text)
    parts = urlsplit(url)
    dists = sorted(validate([Path(p) for p in paths]), key=lambda d: 0 if d.is_wheel else 1)
    auth = "Basic " + base64.b64encode(f"__token__:{token}".encode()).decode("ascii")
    requests = []
    for dist in dists:
        body = MultipartBody(
            form_fields(dist), path=dist.path, filename=dist.filename, size=dist.size
        )
        requests.append(({**body.headers, "Authorization": auth}, b"".join(body)))
    local = threading.local()
    failures: list[str] = []

    def send(headers: dict[str, str], body: bytes) -> None:
        connection = getattr(local, "connection", None)
        if connection is None:
            connection = local.connection = http.client.HTTPConnection(
                parts.hostname or "127.0.0.1", parts.port or 80, timeout=120
            )
        connection.request("POST", parts.path or "/", body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            failures.append(f"{response.status} {response.reason}")

    todo: queue.SimpleQueue[tuple[dict[str, str], bytes]] = queue.SimpleQueue()
    for request in requests[1:]:
        todo.put(request)

    def worker() -> None:
        while True:
            try:
                request = todo.get_nowait()
            except queue.Empty:
                return
            send(*request)

    started, cpu = time.perf_counter(), time.process_time()
    send(*requests[0])
    threads = [threading.Thread(target=worker) for _ in range(min(jobs, len(requests) - 1))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    if failures:
        print(f"{len(failures)} upload(s) failed: {failures[0]}", file=sys.stderr)
        return 1
    Path(out).write_text(json.dumps({"wall": wall, "cpu": cpu}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
