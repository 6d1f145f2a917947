"""API Gateway's per-frame limit, found in a client's raw WebSocket byte stream. Pure code.

API Gateway closes a connection with 1009 when one *frame* is over 32 KB, although a *message*
(its frames reassembled) may reach 128 KB. aiohttp only limits the reassembled message
(``max_msg_size``), so the local stage follows the frame boundaries itself: each frame header
(RFC 6455 §5.2) gives the payload length to skip to the next header. It also finds a client
frame that is not masked, which RFC 6455 §5.1 says the server must close the connection on
(1002, protocol error) — aiohttp accepts it.
"""

from __future__ import annotations

__all__ = ["MESSAGE_TOO_BIG", "PROTOCOL_ERROR", "FrameSizeLimit"]

MESSAGE_TOO_BIG = 1009
PROTOCOL_ERROR = 1002


class FrameSizeLimit:
    """Follows frame headers across reads; reports the first frame whose payload is too large
    or, with ``require_mask``, that a client sent unmasked. ``close_code`` and ``reason`` say
    which, once ``feed`` has reported one."""

    def __init__(self, max_payload_bytes: int, require_mask: bool = False) -> None:
        self.max_payload_bytes = max_payload_bytes
        self.require_mask = require_mask
        self.close_code = 0
        self.reason = ""
        self._header = bytearray()  # the header read so far, when it spans reads
        self._skip = 0  # payload bytes of the current frame still to come

    def feed(self, data: bytes) -> int | None:
        """Read the next bytes of the stream.

        Returns:
            The offset in ``data`` where the first frame over the limit starts (0 when its
            header began in an earlier read), or None while every frame is within it.
        """
        at, size = 0, len(data)
        while at < size:
            if self._skip:
                step = min(self._skip, size - at)
                self._skip -= step
                at += step
                continue
            self._header.append(data[at])
            at += 1
            needed = _header_size(self._header)
            if needed is None or len(self._header) < needed:
                continue
            length = _payload_length(self._header)
            if self.require_mask and not self._header[1] & 0x80:
                self.close_code, self.reason = PROTOCOL_ERROR, "client frame is not masked"
                return max(0, at - len(self._header))
            if length > self.max_payload_bytes:
                self.close_code = MESSAGE_TOO_BIG
                self.reason = f"frame exceeds the limit of {self.max_payload_bytes} bytes"
                return max(0, at - len(self._header))
            self._header.clear()
            self._skip = length
        return None


def _header_size(header: bytearray) -> int | None:
    """The full header's size, once its first two bytes are known."""
    if len(header) < 2:
        return None
    length7, masked = header[1] & 0x7F, header[1] & 0x80
    extended = 2 if length7 == 126 else 8 if length7 == 127 else 0
    return 2 + extended + (4 if masked else 0)


def _payload_length(header: bytearray) -> int:
    length7 = header[1] & 0x7F
    if length7 == 126:
        return int.from_bytes(header[2:4], "big")
    if length7 == 127:
        return int.from_bytes(header[2:10], "big")
    return length7
