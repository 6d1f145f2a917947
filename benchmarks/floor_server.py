"""The floor: a minimal asyncio ``websockets`` broadcast server speaking just enough of the
chatstack contract for the load tests to drive it — the fastest the broadcast path can be here.

- the handshake accepts any ``?token=`` (use the locustfile's ``--no-auth``), no REST API;
- a connection starts in ``general``; ``joinRoom`` / ``leaveRoom`` are acknowledged;
- ``sendMessage`` (to a joined room, else ``NOT_IN_ROOM``) is acknowledged, then broadcast to
  every member of the room — frames shaped as in ``conformance/CONTRACT.md``;
- ``getMessages`` answers an empty page; anything else is an ``UNKNOWN_ACTION`` error frame.

No storage, no stream, no per-delivery HTTP call: about 12 µs of CPU per delivery.

One process holds as many connections as it may open files (``ulimit -n``: 20,000 on the
development machines). ``--processes K`` runs K floor processes, each on a loopback port of its
own, that relay every broadcast to one another over socket pairs — a room's members may be
connected to any of them — and writes all their URLs to the stage file (``ws_urls``; load tests
spread their users over them). Separate ports also spread the connections over K destination
ports: from one address, loopback has only ~28,000 ephemeral ports per destination.

    python -m benchmarks.floor_server --port 8765 --stage-file floor.json
    python -m benchmarks.floor_server --processes 4 --port 0 --stage-file floor.json
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
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
RELAY_LINE_LIMIT = 2 * MAX_MESSAGE_BYTES + 4096


class Floor:
    """Rooms and their members, in memory; broadcasts relayed to the sibling processes."""

    def __init__(self) -> None:
        self.rooms: dict[str, set[ServerConnection]] = defaultdict(set)
        self.peers: list[asyncio.StreamWriter] = []

    def publish(self, room: str, message: str) -> None:
        """Broadcast to this process's members of ``room``, and relay to every sibling."""
        members = self.rooms.get(room)
        if members:
            broadcast(members, message)
        if self.peers:
            line = (json.dumps([room, message]) + "\n").encode()
            for peer in self.peers:
                peer.write(line)

    async def relay_from(self, reader: asyncio.StreamReader) -> None:
        """Broadcast what a sibling relays to this process's members."""
        while line := await reader.readline():
            room, message = json.loads(line)
            members = self.rooms.get(room)
            if members:
                broadcast(members, message)

    async def handle(self, ws: ServerConnection) -> None:
        joined = {"general"}
        self.rooms["general"].add(ws)
        user_id = uuid.uuid4().hex
        try:
            async for raw in ws:
                reply, room, message = self.on_frame(ws, joined, user_id, raw)
                await ws.send(reply)
                if message is not None:  # after the ack, as on a stage
                    self.publish(room, message)
        except ConnectionClosed:
            pass
        finally:
            for room in joined:
                members = self.rooms.get(room)
                if members is not None:
                    members.discard(ws)

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


async def serve_floor(
    host: str, port: int, stage_file: Path | None, relay_fds: list[int] | None = None
) -> None:
    """Serve until SIGTERM or SIGINT; write ``{"rest_url", "ws_url"}`` to ``stage_file``.
    ``relay_fds``: one connected stream socket per sibling process."""
    floor = Floor()
    relays = []
    for fd in relay_fds or []:
        sock = socket.socket(fileno=fd)
        reader, writer = await asyncio.open_connection(sock=sock, limit=RELAY_LINE_LIMIT)
        floor.peers.append(writer)
        relays.append(asyncio.create_task(floor.relay_from(reader)))
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
    urls = {"rest_url": "", "ws_url": f"ws://{host}:{bound}/floor", "pids": [os.getpid()]}
    if stage_file is not None:
        stage_file.write_text(json.dumps(urls), encoding="utf-8")
    print(f"floor server: {urls['ws_url']}", flush=True)
    await stop
    for task in relays:
        task.cancel()
    server.close()
    with contextlib.suppress(TimeoutError):  # never hang on a peer that does not close
        await asyncio.wait_for(server.wait_closed(), CLOSE_TIMEOUT_S)
    if stage_file is not None:
        stage_file.unlink(missing_ok=True)


def _wait_for_file(path: Path, process: subprocess.Popen[bytes]) -> dict[str, Any]:
    deadline = time.monotonic() + START_TIMEOUT_S
    while not path.exists():
        if process.poll() is not None:
            raise RuntimeError(f"the floor server exited with {process.returncode}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"no floor stage file after {START_TIMEOUT_S:.0f} s")
        time.sleep(0.05)
    return dict(json.loads(path.read_text(encoding="utf-8")))


def _stop(process: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def serve_cluster(host: str, processes: int, stage_file: Path | None) -> None:
    """``processes`` floor processes on free ports, each joined to every other by a socket pair;
    their URLs go to ``stage_file`` (``ws_url``: the first; ``ws_urls``: all). Until a signal."""
    ends: list[list[socket.socket]] = [[] for _ in range(processes)]
    for i in range(processes):
        for j in range(i + 1, processes):
            a, b = socket.socketpair()
            ends[i].append(a)
            ends[j].append(b)
    children: list[subprocess.Popen[bytes]] = []
    stopping = False

    def on_signal(_signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with tempfile.TemporaryDirectory(prefix="chatstack-floors-") as tmp:
        try:
            for i, socks in enumerate(ends):
                fds = [sock.fileno() for sock in socks]
                command = [sys.executable, "-m", "benchmarks.floor_server", "--host", host]
                command += ["--port", "0", "--stage-file", str(Path(tmp) / f"floor-{i}.json")]
                command += [arg for fd in fds for arg in ("--relay-fd", str(fd))]
                children.append(
                    subprocess.Popen(
                        command, cwd=REPO_ROOT, pass_fds=fds, stdout=subprocess.DEVNULL
                    )
                )
            for socks in ends:
                for sock in socks:
                    sock.close()
            files = [
                _wait_for_file(Path(tmp) / f"floor-{i}.json", child)
                for i, child in enumerate(children)
            ]
            urls = [f["ws_url"] for f in files]
            stage = {"rest_url": "", "ws_url": urls[0], "ws_urls": urls}
            stage["pids"] = [child.pid for child in children]
            if stage_file is not None:
                stage_file.write_text(json.dumps(stage), encoding="utf-8")
            print(f"floor servers: {' '.join(urls)}", flush=True)
            while not stopping and all(child.poll() is None for child in children):
                time.sleep(0.2)
        finally:
            for child in children:  # all at once: each may take seconds to close its sockets
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            for child in children:
                _stop(child)
            if stage_file is not None:
                stage_file.unlink(missing_ok=True)


@contextlib.contextmanager
def running_floor(processes: int = 1) -> Iterator[dict[str, Any]]:
    """A floor server (``processes`` of them, relaying to one another) in subprocesses on free
    loopback ports, stopped (SIGTERM) on exit:
    ``{"rest_url", "ws_url", "ws_urls", "stage_file", "pid", "pids"}``."""
    with tempfile.TemporaryDirectory(prefix="chatstack-floor-") as tmp:
        path = Path(tmp) / "floor.json"
        command = [sys.executable, "-m", "benchmarks.floor_server", "--port", "0"]
        command += ["--processes", str(processes), "--stage-file", str(path)]
        process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.DEVNULL)
        try:
            urls = _wait_for_file(path, process)
            urls.setdefault("ws_urls", [urls["ws_url"]])
            yield {**urls, "stage_file": str(path), "pid": process.pid}
        finally:
            _stop(process, timeout=30.0)  # the launcher stops its processes first


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--stage-file", type=Path, help="write {rest_url, ws_url} here")
    parser.add_argument(
        "--processes", type=int, default=1, help="floor processes relaying to one another"
    )
    parser.add_argument("--relay-fd", type=int, action="append", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.processes > 1:
        serve_cluster(args.host, args.processes, args.stage_file)
    else:
        asyncio.run(serve_floor(args.host, args.port, args.stage_file, args.relay_fd))


if __name__ == "__main__":
    main()
