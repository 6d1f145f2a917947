"""Names the stage's processes as ``top`` and ``ps -o comm`` show them (Linux), so an operator —
or a benchmark — can tell the embedded AWS and each function's sandboxes apart."""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

__all__ = ["name_process"]

_PR_SET_NAME = 15  # prctl(2): the calling thread's name, which is the process's comm


def name_process(name: str) -> None:
    """Call this process ``cs:<name>`` (cut to the kernel's 15 bytes); a no-op off Linux."""
    if not sys.platform.startswith("linux"):
        return
    library = ctypes.util.find_library("c")
    if library is None:
        return
    title = f"cs:{name}".encode()[:15]
    ctypes.CDLL(library, use_errno=True).prctl(_PR_SET_NAME, ctypes.c_char_p(title), 0, 0, 0)
