"""How core code reports progress without printing.

Core functions take a :class:`Reporter` (default :data:`NULL_REPORTER`). Only
the CLI passes one that renders with rich or plain lines. Messages must never
contain secrets.
"""

from __future__ import annotations

from typing import Protocol


class Reporter(Protocol):
    """Progress sink for long-running core operations."""

    def debug(self, message: str) -> None:
        """Detail shown only with ``-v``."""

    def info(self, message: str) -> None:
        """A step the user should see (``Minted an upload token, valid 900 s``)."""

    def warning(self, message: str) -> None:
        """Something odd that does not stop the run."""

    def file_started(self, filename: str, size: int) -> None:
        """An upload of ``filename`` (``size`` bytes) began."""

    def file_progress(self, filename: str, sent: int) -> None:
        """``sent`` more bytes of ``filename`` went out."""

    def file_finished(self, filename: str, status: str) -> None:
        """An upload ended with ``status`` (``uploaded``, ``skipped``, ``failed`` ...)."""


class NullReporter:
    """A reporter that drops everything."""

    def debug(self, message: str) -> None:
        pass

    def info(self, message: str) -> None:
        pass

    def warning(self, message: str) -> None:
        pass

    def file_started(self, filename: str, size: int) -> None:
        pass

    def file_progress(self, filename: str, sent: int) -> None:
        pass

    def file_finished(self, filename: str, status: str) -> None:
        pass


NULL_REPORTER: Reporter = NullReporter()

__all__ = ["NULL_REPORTER", "NullReporter", "Reporter"]
