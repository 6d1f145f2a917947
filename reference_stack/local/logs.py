"""The local stage's own log: one JSON object per line on standard error."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

__all__ = ["log_event", "setup"]

_logger = logging.getLogger("chatstack.stage")


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def setup(level: int = logging.INFO) -> None:
    """Send the stage's log to standard error as JSON lines; quiet the embedded servers."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JsonFormatter())
    _logger.handlers[:] = [handler]
    _logger.setLevel(level)
    _logger.propagate = False
    for noisy in ("werkzeug", "aiohttp.access", "botocore", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


def log_event(
    message: str, level: int = logging.INFO, exc_info: bool = False, **fields: Any
) -> None:
    """Log ``message`` with structured ``fields``."""
    _logger.log(level, message, extra={"fields": fields}, exc_info=exc_info)
