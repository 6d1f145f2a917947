"""The suite's own faults: the harness could not judge a check (never the stage's failure).

::

    HarnessError
    ├── TargetError          the target stage cannot be determined or started
    ├── StageUnreachable     nothing answers at the stage's URLs
    └── PreconditionFailed   a helper step a check stands on (a fresh user, a connection, a
                             join) did not work, so the check's own requirement was not reached

A check that raises one of these gets the verdict *error*, whatever the phase; an
``AssertionError`` (or any other exception) in a check's body is a *failure* of the stage.
"""

from __future__ import annotations

__all__ = ["HarnessError", "PreconditionFailed", "StageUnreachable", "TargetError"]


class HarnessError(Exception):
    """The harness could not judge the check."""


class TargetError(HarnessError):
    """The target stage cannot be determined or started."""


class StageUnreachable(HarnessError):
    """Nothing answers at the stage's REST or WebSocket URL."""


class PreconditionFailed(HarnessError):
    """A helper step the check stands on failed: its requirement was never reached."""
