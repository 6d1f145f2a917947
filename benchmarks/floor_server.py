"""The floor: a minimal asyncio ``websockets`` broadcast server speaking just enough of the
chatstack contract for the load tests to drive it — the fastest the broadcast path can be here.

- the handshake accepts any ``?token=`` (use the locustfile's ``--no-auth``), no REST API;
- a connection starts in ``general``; ``joinRoom`` / ``leaveRoom`` are acknowledged;
- ``sendMessage`` (to a joined room, else ``NOT_IN_ROOM``) is acknowledged, then broadcast to
  every member of the room — frames shaped as in ``conformance/CONTRACT.md``;
- ``getMessages`` answers an empty page; anything else is an ``UNKNOWN_ACTION`` error frame.

No storage, no stream, no per-delivery HTTP call: about 12 µs of CPU per delivery.

    python -m benchmarks.floor_server --port 8765 --stage-file floor.json
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed

__all__ = ["main", "running_floor", "serve_floor"]

REPO_ROOT = Path(__file__).resolve().parents[1]
MAX_MESSAGE_BYTES = 128 * 1024
START_TIMEOUT_S = 30.0
CLOSE_TIMEOUT_S = 3.0


class Floor:
    """Rooms and their members, in memory."""

    def __init__(self) -> None:
        self.rooms: dict[str, set[ServerConnection]] = defaultdict(set)

    async def handle(self, ws: ServerConnection) -> None:
        joined = {"general"}
        self.rooms["general"].add(ws)
        user_id = uuid.uuid4().hex
        try:
            async for raw in ws:
                reply, room, message = self.on_frame(ws, joined, user_id, raw)
                await ws.send(reply)
                if message is not None:  # after the ack, as on a stage
                    broadcast(self.rooms[room], message)
        except ConnectionClosed:
            pass
        finally:
            for room in joined:
                self.rooms[room].discard(ws)

    def on_frame(
        self, ws: ServerConnection, joined: set[str], user_id: str, raw: str | bytes
    ) -> tuple[str, str, str | None]:
        """The reply to ``raw``, and the broadcast it causes (room and frame) if any."""
        try:
            frame = json.loads(raw)
            action = frame.get("action")
        except (ValueError, AttributeError):
            return _error("INVALID_JSON", "the frame is not a JSON object"), "", None
        room = frame.get("roomId")
        if action == "joinRoom":
            joined.add(room)
            self.rooms[room].add(ws)
            return json.dumps({"type": "ack", "action": action, "roomId": room}), room, None
        if action == "leaveRoom":
            joined.discard(room)
            self.rooms[room].discard(ws)
            return json.dumps({"type": "ack", "action": action, "roomId": room}), room, None
        if action == "getMessages":
            page = {"type": "messages", "roomId": room, "messages": [], "nextBefore": None}
            return json.dumps(page), room, None
        if action != "sendMessage":
            return _error("UNKNOWN_ACTION", f"unknown action {action!r}"), "", None
        if room not in joined:
            return _error("NOT_IN_ROOM", f"not in room {room}", action), room, None
        message_id, now = uuid.uuid4().hex, int(time.time() * 1000)
        client_message_id = frame.get("clientMessageId")
        ack = {
            "type": "ack",
            "action": action,
            "roomId": room,
            "clientMessageId": client_message_id,
            "messageId": message_id,
            "timestamp": now,
            "duplicate": False,
        }
        message = {
            "type": "message",
            "messageId": message_id,
            "roomId": room,
            "userId": user_id,
            "username": "floor",
            "message": frame.get("message"),
            "timestamp": now,
            "clientMessageId": client_message_id,
        }
        return json.dumps(ack), room, json.dumps(message)


def _error(code: str, message: str, action: str | None = None) -> str:
    frame: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if action:
        frame["action"] = action
    return json.dumps(frame)


async def serve_floor(host: str, port: int, stage_file: Path | None) -> None:
    """Serve until SIGTERM or SIGINT; write ``{"rest_url", "ws_url"}`` to ``stage_file``."""
    floor = Floor()
    stop = asyncio.get_running_loop().create_future()

    def on_signal() -> None:
        if stop.done():  # a second signal: shutting down hangs, so just go
            os._exit(1)
        stop.set_result(None)

    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, on_signal)
    server = await serve(
        floor.handle, host, port, compression=None, max_size=MAX_MESSAGE_BYTES, max_queue=None
    )
    bound = next(iter(server.sockets)).getsockname()[1]
    urls = {"rest_url": "", "ws_url": f"ws://{host}:{bound}/floor"}
    if stage_file is not None:
        stage_file.write_text(json.dumps(urls), encoding="utf-8")
    print(f"floor server: {urls['ws_url']}", flush=True)
    await stop
    server.close()
    with contextlib.suppress(TimeoutError):  # never hang on a peer that does not close
        await asyncio.wait_for(server.wait_closed(), CLOSE_TIMEOUT_S)
    if stage_file is not None:
        stage_file.unlink(missing_ok=True)


@contextlib.contextmanager
def running_floor() -> Iterator[dict[str, Any]]:
    """A floor server in a subprocess on a free loopback port, stopped (SIGTERM) on exit:
    ``{"rest_url", "ws_url", "stage_file", "pid"}``."""
    with tempfile.TemporaryDirectory(prefix="chatstack-floor-") as tmp:
        path = Path(tmp) / "floor.json"
        command = [sys.executable, "-m", "benchmarks.floor_server", "--port", "0"]
        command += ["--stage-file", str(path)]
        process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + START_TIMEOUT_S
            while not path.exists():
                if process.poll() is not None:
                    raise RuntimeError(f"the floor server exited with {process.returncode}")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no floor stage file after {START_TIMEOUT_S:.0f} s")
                time.sleep(0.05)
            urls = json.loads(path.read_text(encoding="utf-8"))
            yield {**urls, "stage_file": str(path), "pid": process.pid}
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--stage-file", type=Path, help="write {rest_url, ws_url} here")
    args = parser.parse_args(argv)
    asyncio.run(serve_floor(args.host, args.port, args.stage_file))


if __name__ == "__main__":
    main()
