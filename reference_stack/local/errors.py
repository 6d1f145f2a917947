"""The local stage's own exceptions (the functions' are in ``lambdas/contract/errors.py``)."""

from __future__ import annotations

__all__ = ["DependencyMissing", "StageError", "StartFailed"]


class StageError(Exception):
    """Root of the local stage's exceptions."""


class StartFailed(StageError):
    """A part of the stage (moto, DynamoDB Local, a server) did not start."""


class DependencyMissing(StartFailed):
    """Something the stage runs on is not installed here; the message says what to do."""
