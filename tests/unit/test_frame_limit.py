"""The local stage's per-frame size limit (API Gateway closes 1009 above 32 KB per frame),
read from the client's raw byte stream: reference_stack/local/frame_limit.py."""

from __future__ import annotations

import os
import struct

import pytest

from reference_stack.local.frame_limit import FrameSizeLimit

LIMIT = 32 * 1024


def frame(
    payload_length: int, *, opcode: int = 0x1, fin: bool = True, masked: bool = True
) -> bytes:
    """One client frame as it travels on the wire (masked, as a client must)."""
    first = (0x80 if fin else 0) | opcode
    mask_bit = 0x80 if masked else 0
    if payload_length < 126:
        head = struct.pack("!BB", first, mask_bit | payload_length)
    elif payload_length < 1 << 16:
        head = struct.pack("!BBH", first, mask_bit | 126, payload_length)
    else:
        head = struct.pack("!BBQ", first, mask_bit | 127, payload_length)
    return head + (os.urandom(4) if masked else b"") + b"x" * payload_length


def test_frames_up_to_the_limit_pass():
    """Frames of every header size, up to exactly 32 KB, are never reported."""
    guard = FrameSizeLimit(LIMIT)
    stream = frame(0) + frame(125) + frame(126) + frame(65_535 // 2) + frame(LIMIT)
    assert guard.feed(stream) is None


def test_a_frame_over_the_limit_is_found_where_it_starts():
    """The offset of the first byte of the frame over the limit is returned."""
    guard = FrameSizeLimit(LIMIT)
    before = frame(10) + frame(LIMIT)
    assert guard.feed(before + frame(LIMIT + 1) + frame(5)) == len(before)


def test_a_64_bit_length_over_the_limit_is_found():
    """An 8-byte extended length (over 64 KiB) is read as such."""
    assert FrameSizeLimit(LIMIT).feed(frame(200_000)) == 0


def test_fragments_of_a_large_message_each_under_the_limit_pass():
    """The limit is per frame: 100 KB sent as four continuation-linked frames passes."""
    guard = FrameSizeLimit(LIMIT)
    parts = [
        frame(25_000, opcode=0x1, fin=False),
        frame(25_000, opcode=0x0, fin=False),
        frame(25_000, opcode=0x0, fin=False),
        frame(25_000, opcode=0x0, fin=True),
    ]
    assert guard.feed(b"".join(parts)) is None


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 1000])
def test_headers_and_payloads_split_across_reads_are_followed(chunk):
    """Bytes arrive in any chunking: the frame over the limit is found before its payload."""
    guard = FrameSizeLimit(LIMIT)
    good = frame(300) + frame(70) + frame(LIMIT)
    stream = good + frame(LIMIT + 1)
    for start in range(0, len(stream), chunk):
        offset = guard.feed(stream[start : start + chunk])
        if offset is not None:
            break
    assert offset is not None, "the frame over the limit was not found"
    # Found once its length is read: at its first byte, or at 0 if that came in an earlier read.
    assert start <= len(stream) - LIMIT - 1
    assert start + offset == max(start, len(good))


def test_an_unmasked_frame_is_measured_too():
    """The mask key is optional in the header: its absence does not shift the boundaries."""
    guard = FrameSizeLimit(LIMIT)
    assert guard.feed(frame(LIMIT, masked=False) + frame(LIMIT + 1, masked=False)) == LIMIT + 4


def test_an_unmasked_client_frame_is_found_when_masks_are_required():
    """RFC 6455 §5.1: the server closes on a client frame that is not masked (1002)."""
    guard = FrameSizeLimit(LIMIT, require_mask=True)
    good = frame(10)
    assert guard.feed(good + frame(10, masked=False)) == len(good)
    assert (guard.close_code, guard.reason) == (1002, "client frame is not masked")


def test_a_frame_over_the_limit_says_1009():
    """The reported code tells a frame too large (1009) from an unmasked one."""
    guard = FrameSizeLimit(LIMIT, require_mask=True)
    assert guard.feed(frame(LIMIT + 1)) == 0
    assert guard.close_code == 1009
