"""Upload validated distributions: first file alone, then the rest concurrently.

Network errors, 5xx and 429 are retried under the one retry policy
(:class:`trustpub._http.RetryPolicy`), other 4xx never. After an ambiguous failure
(the connection dropped after the body went out, a timeout, a 5xx) the
index's simple page decides: an identical file there means the upload
landed. When one file fails for good, no new upload starts, uploads in
flight finish, and the rest are reported ``not-attempted``.
"""

from __future__ import annotations

import base64
import http
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import as_completed
from typing import TYPE_CHECKING

import httpx

from trustpub._http import (
    TLS_ANCHOR,
    Retry,
    RetryPolicy,
    body_excerpt,
    network_error,
    redirect_refused,
    retryable_status,
)
from trustpub._secret import scrub_outside
from trustpub._threads import worker_pool
from trustpub.errors import NetworkError, TrustpubError, UploadError
from trustpub.reporter import NULL_REPORTER, Reporter
from trustpub.repository import IndexTarget
from trustpub.upload.lookup import IndexFile, project_files
from trustpub.upload.multipart import CHUNK_SIZE, Aborted, MultipartBody, form_fields
from trustpub.upload.results import FileResult, FileStatus, UploadReport
from trustpub.upload.validate import Distribution

if TYPE_CHECKING:
    from trustpub._credential import UploadCredential

ABSENT = "absent"
IDENTICAL = "identical"
DIFFERENT = "different"

_ONCE = RetryPolicy(retries=0)

ALREADY_THERE = "already there, identical"
"""The outcome of a file the index already has, byte for byte (it is not sent again)."""

UPLOAD_TIMEOUT = httpx.Timeout(60.0, connect=10.0, read=600.0)
"""Per-request timeouts of an upload: the index may take minutes to answer after a large body."""


IN_FLIGHT = "interrupted in flight (the index may have completed it; --skip-existing tells)"
"""The message of a file whose upload was abandoned by a signal."""


class _Fatal(Exception):
    """This file failed for good."""

    def __init__(self, error: TrustpubError) -> None:
        super().__init__(error.message)
        self.error = error


def server_message(response: httpx.Response) -> str:
    """The index's explanation: the reason phrase when it is not the standard one, else the body.

    Scrubbed of secrets and token shapes: an index may echo the Authorization
    header back, and the text goes into an error (docs/dev/contracts.md, Errors).
    """
    reason = (response.reason_phrase or "").strip()
    try:
        standard = http.HTTPStatus(response.status_code).phrase
    except ValueError:
        standard = ""
    if reason and reason.lower() != standard.lower():
        return scrub_outside(reason)
    body = _json_message(response) or body_excerpt(response, 500, empty="")
    if body.lower() in ("none", "null"):  # pypiserver's and Warehouse's "no detail"
        body = ""
    return body or scrub_outside(reason) or standard or f"HTTP {response.status_code}"


def _json_message(response: httpx.Response, limit: int = 500) -> str:
    """The ``message``/``detail``/``error``/``code`` of a JSON answer, or ""."""
    if "json" not in response.headers.get("content-type", "").lower():
        return ""
    try:
        response.read()
        data = response.json()
    except (httpx.HTTPError, ValueError, RecursionError):
        return ""
    if not isinstance(data, dict):
        return ""
    for key in ("message", "detail", "error", "code"):
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return scrub_outside(" ".join(value.split()))[:limit]
    return ""


class Uploader:
    """Uploads distributions of one release to one index.

    ``credential`` is called before every upload request (it may re-mint a
    token near expiry) and must be thread-safe. The ``reporter`` is called
    from several threads when ``jobs > 1``; ``file_started`` is called again
    when an upload is retried (progress starts over).
    """

    def __init__(
        self,
        target: IndexTarget,
        credential: Callable[[], UploadCredential],
        *,
        client: httpx.Client,
        jobs: int = 4,
        skip_existing: bool = False,
        attestations: bool = True,
        reporter: Reporter = NULL_REPORTER,
        retries: int = 5,
        backoff: float = 1.0,
        chunk_size: int = CHUNK_SIZE,
        timeout: httpx.Timeout = UPLOAD_TIMEOUT,
        lookup_credential: UploadCredential | None = None,
        look_first: bool = False,
    ) -> None:
        self.target = target
        self.look_first = look_first
        """Without skip_existing: list the index's files first, to report identical ones."""
        self.lookup_credential = lookup_credential
        """Sent with simple-page lookups on the upload host (the user's own, never a minted one)."""
        self.credential = credential
        self.client = client
        self.jobs = max(1, jobs)
        self.skip_existing = skip_existing
        self.attestations = attestations
        self.reporter = reporter
        self.policy = RetryPolicy(retries=max(0, retries), base=backoff)
        self.chunk_size = chunk_size
        self.timeout = timeout
        self.last_report: UploadReport | None = None
        """The report of the last :meth:`upload`, also set when it was interrupted."""
        self._stop = threading.Event()
        self._abort = threading.Event()
        self._lock = threading.Lock()
        self._results: dict[str, FileResult] = {}
        self._error: TrustpubError | None = None
        self._inflight: set[str] = set()
        self._trusted = False
        self._login: str | None = None

    # -- the index's view ------------------------------------------------------

    def _index_files(self, dists: Sequence[Distribution]) -> dict[str, IndexFile]:
        listed: dict[str, IndexFile] = {}
        for name in dict.fromkeys(dist.normalized_name for dist in dists):
            listed.update(
                project_files(
                    self.client,
                    self.target,
                    name,
                    self.lookup_credential,
                    policy=self.policy,
                    sleep=self._wait,
                )
            )
        return listed

    def check_existing(self, dists: Sequence[Distribution]) -> dict[str, str]:
        """``filename -> "absent" | "identical" | "different"`` from the index's simple page.

        A listed file without a sha256 counts as ``different`` (it cannot be
        proven identical). Raises :class:`NetworkError` when the page cannot be read.
        """
        listed = self._index_files(dists)
        states: dict[str, str] = {}
        for dist in dists:
            entry = listed.get(dist.filename)
            if entry is None:
                states[dist.filename] = ABSENT
            elif entry.sha256 is not None and entry.sha256 == dist.sha256.lower():
                states[dist.filename] = IDENTICAL
            else:
                states[dist.filename] = DIFFERENT
        return states

    def _probe(self, dist: Distribution) -> tuple[str, IndexFile | None]:
        """The index's state for one file; ``unknown`` when the page cannot be read."""
        try:
            # One read: the upload's own retries repeat it.
            listed = project_files(
                self.client, self.target, dist.name, self.lookup_credential, policy=_ONCE
            )
            entry = listed.get(dist.filename)
        except TrustpubError as error:
            self.reporter.debug(f"{dist.filename}: could not check the index: {error.message}")
            return "unknown", None
        if entry is None:
            return ABSENT, None
        if entry.sha256 is not None and entry.sha256 == dist.sha256.lower():
            return IDENTICAL, entry
        return DIFFERENT, entry

    # -- one file --------------------------------------------------------------

    def _result(
        self, dist: Distribution, status: FileStatus, *, url: str | None = None, message: str = ""
    ) -> FileResult:
        return FileResult(
            filename=dist.filename,
            size=dist.size,
            sha256=dist.sha256,
            status=status,
            url=url or "",
            message=message,
        )

    def _release_url(self, dist: Distribution) -> str | None:
        if self.target.name is None:
            return None
        return f"{self.target.index_url}/project/{dist.normalized_name}/{dist.version}/"

    def _wait(self, seconds: float) -> None:
        if seconds > 0 and self._abort.wait(seconds):
            raise Aborted("interrupted while waiting to retry")
        if self._abort.is_set():
            raise Aborted("interrupted")

    def _authorization(self) -> str:
        try:
            credential = self.credential()
        except TrustpubError as error:
            raise _Fatal(error) from None
        self._trusted = credential.source == "trusted-publishing"
        self._login = credential.username
        pair = f"{credential.username}:{credential.password.reveal()}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")

    def _send(self, dist: Distribution, fields: list[tuple[str, str]]) -> httpx.Response:
        self.reporter.file_started(dist.filename, dist.size)
        body = MultipartBody(
            fields,
            path=dist.path,
            filename=dist.filename,
            size=dist.size,
            chunk_size=self.chunk_size,
            on_chunk=lambda sent: self.reporter.file_progress(dist.filename, sent),
            should_stop=self._abort.is_set,
        )
        headers = dict(body.headers)
        headers["Authorization"] = self._authorization()
        headers["Accept"] = "application/json;q=0.9, text/plain;q=0.8, text/html;q=0.7"
        with self._lock:
            self._inflight.add(dist.filename)
        try:
            response = self.client.post(
                self.target.upload_url, content=body, headers=headers, timeout=self.timeout
            )
        except KeyboardInterrupt:
            raise  # still in flight for the report: the index may have completed it
        except BaseException:
            with self._lock:
                self._inflight.discard(dist.filename)
            raise
        with self._lock:
            self._inflight.discard(dist.filename)
        return response

    def _upload_file(self, dist: Distribution) -> FileResult:
        try:
            fields = form_fields(dist, attestations=self.attestations)
        except TrustpubError as error:
            raise _Fatal(error) from None
        attempts = self.policy.retries + 1

        def attempt(number: int) -> FileResult | Retry:
            self._wait(0)
            return self._attempt(dist, fields, number)

        def on_retry(retry: Retry, delay: float, number: int) -> None:
            self.reporter.warning(
                f"{dist.filename}: {retry.note}; retrying in {delay:.1f} s "
                f"(attempt {number + 2} of {attempts})"
            )

        try:
            return self.policy.run(attempt, sleep=self._wait, on_retry=on_retry)
        except (NetworkError, UploadError) as error:  # the retries are spent
            raise _Fatal(error) from None

    def _landed(self, dist: Distribution, message: str) -> FileResult | None:
        """After an ambiguous failure: uploaded, if the index has this exact file."""
        state, entry = self._probe(dist)
        if state != IDENTICAL:
            return None
        url = self._release_url(dist) or (entry.url if entry else None)
        return self._result(dist, FileStatus.UPLOADED, url=url, message=message)

    def _attempt(
        self, dist: Distribution, fields: list[tuple[str, str]], number: int
    ) -> FileResult | Retry:
        """One upload request; a :class:`Retry` when another attempt may succeed."""
        gave_up = f"(gave up after {number + 1} attempts)"
        try:
            response = self._send(dist, fields)
        except httpx.TransportError as error:
            failure = network_error(
                error, self.target.upload_url, what=f"uploading {dist.filename}"
            )
            if not isinstance(error, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
                landed = self._landed(
                    dist, "the connection failed after sending, but the index has the file"
                )
                if landed is not None:
                    return landed
            if failure.anchor == TLS_ANCHOR:  # retrying cannot help
                raise _Fatal(failure) from None
            return Retry(
                NetworkError(
                    f"{dist.filename}: {failure.message} {gave_up}",
                    hint=failure.hint,
                    anchor=failure.anchor,
                ),
                note=failure.message,
            )
        status = response.status_code
        if 200 <= status < 300:
            return self._result(dist, FileStatus.UPLOADED, url=self._release_url(dist))
        message = server_message(response)
        if not retryable_status(status):
            raise _Fatal(self._refused(dist, status, message, response))
        if status >= 500:
            landed = self._landed(dist, f"the index answered {status}, but it has the file")
            if landed is not None:
                return landed
        problem = f"the index answered {status} {message}"
        return Retry.answered(
            response,
            NetworkError(
                f"{dist.filename}: {problem} {gave_up}",
                hint="the index is overloaded or failing; wait and run again "
                "(files already uploaded will be recognised)",
                anchor="index-unavailable",
            ),
            note=problem,
        )

    def _refused(
        self, dist: Distribution, status: int, message: str, response: httpx.Response
    ) -> TrustpubError:
        index = self.target.display
        if response.is_redirect:
            return redirect_refused(
                response,
                what=f"{dist.filename}: {index}",
                error=UploadError,
                hint="use the exact upload URL (with its trailing slash); credentials are never "
                "sent to a redirect target",
                anchor="upload-redirected",
            )
        if status in (400, 409) and "already exist" in message.lower():
            state, entry = self._probe(dist)
            if state == IDENTICAL:
                # Reported by the caller's loop as a success (pypiserver answers 409 to duplicates).
                raise _Identical(entry.url if entry else None)
            there = f" (sha256 {entry.sha256} there)" if entry and entry.sha256 else ""
            return UploadError(
                f"{dist.filename} already exists on {index} with different contents{there}; "
                f"the index said: {status} {message}",
                hint="a published file can never be replaced: bump the version, rebuild and "
                "upload again",
                anchor="file-already-exists",
            )
        text = f"{index} refused {dist.filename}: {status} {message}"
        from trustpub.upload.refusals import PrivateIndex, explain_upload_refusal

        private = None
        if self.target.name is None:  # not PyPI or TestPyPI: devpi, pypiserver, ...
            private = PrivateIndex(self.target.upload_url, self._login)
        explanation = explain_upload_refusal(
            status, message, trusted=self._trusted, project=dist.name, private=private
        )
        details = [line for line in explanation.details if not line.startswith("index said:")]
        return UploadError(text, hint=explanation.hint, details=details, anchor=explanation.anchor)

    def _run(self, dist: Distribution) -> None:
        if self._stop.is_set():
            return
        try:
            result = self._upload_file(dist)
        except _Identical as identical:
            result = self._result(
                dist,
                FileStatus.SKIPPED,
                url=identical.url,
                message=ALREADY_THERE,
            )
        except _Fatal as fatal:
            result = self._result(dist, FileStatus.FAILED, message=fatal.error.message)
            with self._lock:
                if self._error is None:
                    self._error = fatal.error
            self._stop.set()
        except Aborted:
            result = self._result(dist, FileStatus.FAILED, message="interrupted")
        except TrustpubError as error:  # e.g. the file changed while being sent
            result = self._result(dist, FileStatus.FAILED, message=error.message)
            with self._lock:
                if self._error is None:
                    self._error = error
            self._stop.set()
        with self._lock:
            self._results[dist.filename] = result
        self.reporter.file_finished(dist.filename, result.status)

    # -- the whole run ---------------------------------------------------------

    def _report(self, dists: Sequence[Distribution]) -> UploadReport:
        with self._lock:
            for dist in dists:
                if dist.filename in self._inflight and dist.filename not in self._results:
                    self._results[dist.filename] = self._result(
                        dist, FileStatus.FAILED, message=IN_FLIGHT
                    )
            results = tuple(
                self._results.get(dist.filename) or self._result(dist, FileStatus.NOT_ATTEMPTED)
                for dist in dists
            )
        ok = self._error is None and all(
            r.status in (FileStatus.UPLOADED, FileStatus.SKIPPED) for r in results
        )
        report = UploadReport(results=results, ok=ok, error=self._error)
        self.last_report = report
        return report

    def _skip_existing(self, dists: Sequence[Distribution]) -> list[Distribution]:
        """Mark identical files skipped; a different file stops everything. Returns what is left."""
        try:
            listed = self._index_files(dists)
        except TrustpubError as error:
            self._error = error
            return []
        left: list[Distribution] = []
        different: list[str] = []
        for dist in dists:
            entry = listed.get(dist.filename)
            if entry is None:
                left.append(dist)
            elif entry.sha256 is not None and entry.sha256 == dist.sha256.lower():
                self._results[dist.filename] = self._result(
                    dist,
                    FileStatus.SKIPPED,
                    url=entry.url,
                    message=ALREADY_THERE,
                )
                self.reporter.file_finished(dist.filename, FileStatus.SKIPPED)
            else:
                why = "with different contents" if entry.sha256 else "without a sha256 to compare"
                self._results[dist.filename] = self._result(
                    dist, FileStatus.FAILED, url=entry.url, message=f"already on the index {why}"
                )
                different.append(f"{dist.filename} ({why})")
        if different:
            self._error = UploadError(
                f"already on {self.target.display}, not identical: {', '.join(different)}; "
                "nothing was uploaded",
                hint="a published file can never be replaced: bump the version, rebuild and "
                "upload again",
                anchor="file-already-exists",
            )
            return []
        return left

    def _skip_identical(self, dists: Sequence[Distribution]) -> list[Distribution]:
        """Without ``--skip-existing``: leave out files the index already has, byte for byte.

        PyPI answers 200 both to a new file and to an identical re-upload (Warehouse's
        duplicate rule), so only a look before uploading can report "already there,
        identical". One read per project, best effort: when it fails, every file is sent
        as before. A different file of the same name is left to the upload to refuse.
        """
        listed: dict[str, IndexFile] = {}
        try:
            for name in dict.fromkeys(dist.normalized_name for dist in dists):
                listed.update(
                    project_files(
                        self.client, self.target, name, self.lookup_credential, policy=_ONCE
                    )
                )
        except TrustpubError as error:
            self.reporter.debug(f"could not list the index's files: {error.message}")
            return list(dists)
        left: list[Distribution] = []
        for dist in dists:
            entry = listed.get(dist.filename)
            if entry is not None and entry.sha256 == dist.sha256.lower():
                self._results[dist.filename] = self._result(
                    dist, FileStatus.SKIPPED, url=entry.url, message=ALREADY_THERE
                )
                self.reporter.file_finished(dist.filename, FileStatus.SKIPPED)
            else:
                left.append(dist)
        return left

    def upload(self, dists: Sequence[Distribution]) -> UploadReport:
        """Upload ``dists`` (wheels first); the first file alone, then ``jobs`` at a time.

        Returns a report; on ``KeyboardInterrupt`` uploads in flight are
        aborted, :attr:`last_report` is set and the interrupt is re-raised.
        """
        ordered = sorted(dists, key=lambda dist: 0 if dist.is_wheel else 1)
        self._stop.clear()
        self._abort.clear()
        self._results = {}
        self._error = None
        self._inflight = set()
        try:
            if self.skip_existing:
                todo = self._skip_existing(ordered)
            elif self.look_first:
                todo = self._skip_identical(ordered)
            else:
                todo = list(ordered)
            if todo:
                self._run(todo[0])
            rest = todo[1:]
            if rest and not self._stop.is_set():
                self._run_concurrently(rest)
        except KeyboardInterrupt:
            self._stop.set()
            self._abort.set()
            report = self._report(ordered)
            self.reporter.warning(
                f"interrupted: {report.count(FileStatus.UPLOADED)} uploaded, "
                f"{report.count(FileStatus.NOT_ATTEMPTED)} not attempted"
            )
            raise
        return self._report(ordered)

    def _run_concurrently(self, dists: Sequence[Distribution]) -> None:
        if self.jobs == 1:
            for dist in dists:
                self._run(dist)
            return
        pool = worker_pool(min(self.jobs, len(dists)), "trustpub-upload")
        finished = False
        try:
            futures = [pool.submit(self._run, dist) for dist in dists]
            for future in as_completed(futures):
                future.result()
            finished = True
        except BaseException:
            self._stop.set()
            self._abort.set()
            raise
        finally:
            # Interrupted: requests in flight are abandoned, not waited for (an index may
            # keep a connection open for minutes); they end with the process.
            pool.shutdown(wait=finished, cancel_futures=True)


class _Identical(Exception):
    """A signal: the index already has this exact file."""

    def __init__(self, url: str | None) -> None:
        super().__init__("identical file already on the index")
        self.url = url


__all__ = [
    "ABSENT",
    "ALREADY_THERE",
    "DIFFERENT",
    "IDENTICAL",
    "Uploader",
    "server_message",
]
