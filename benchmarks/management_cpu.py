"""CPU the local stage spends per ``@connections`` POST, on its two management endpoints.

The stage answers every delivery of every broadcast on its one event loop, so this cost bounds
how fast a large room fans out locally. A child process runs ``ManagementApi`` over N open (fake)
connections whose ``send_str`` does nothing, on both servers: the aiohttp route on the
WebSocket port and the minimal keep-alive server the functions use. ``SignedPoster`` (16 in
flight) posts one frame to every connection; the child reports its CPU time per request.

    python -m benchmarks.management_cpu [--deliveries 5000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from botocore.credentials import Credentials

from lambdas.domain.signed_delivery import SignedPoster

__all__ = ["main"]

FRAME = b'{"type":"message","messageId":"m","roomId":"bench","message":"' + b"x" * 100 + b'"}'


@dataclass
class _Socket:
    closed: bool = False

    async def send_str(self, text: str) -> None:
        pass


@dataclass
class _Connection:
    socket: _Socket = field(default_factory=_Socket)
    close_code: int | None = None


@dataclass
class _WebSocketApi:
    connections: dict[str, Any]
    max_message_bytes: int = 128 * 1024


def _ids(n: int) -> list[str]:
    return [f"bench{i:06d}AbC=" for i in range(n)]


def _serve(kind: str, deliveries: int, ports: Any, measured: Any, done: Any) -> None:
    from reference_stack.local.management_api import ManagementApi

    async def run() -> None:
        fake = _WebSocketApi({i: _Connection() for i in _ids(deliveries)})
        api = ManagementApi(fake, "dev")  # type: ignore[arg-type]
        if kind == "aiohttp":
            app = web.Application(client_max_size=200 * 1024)
            api.add_routes(app)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            ports.put(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
        else:
            server = await api.serve("127.0.0.1", 0)
            ports.put(server.sockets[0].getsockname()[1])
        started = time.process_time()
        await asyncio.get_running_loop().run_in_executor(None, done.wait)
        measured.put(time.process_time() - started)
        if kind != "aiohttp":
            await api.stop()

    asyncio.run(run())


def measure(kind: str, deliveries: int) -> float:
    """Server CPU µs per POST on the ``kind`` endpoint."""
    spawn = multiprocessing.get_context("spawn")
    ports, measured, done = spawn.Queue(), spawn.Queue(), spawn.Event()
    child = spawn.Process(target=_serve, args=(kind, deliveries, ports, measured, done))
    child.start()
    try:
        port = ports.get(timeout=30)
        poster = SignedPoster(
            f"http://127.0.0.1:{port}/dev", "us-east-1", Credentials("bench", "bench")
        )
        outcome = poster.deliver(_ids(deliveries), FRAME)
        if len(outcome.delivered) != deliveries:
            raise RuntimeError(f"{kind}: {len(outcome.failed)} failed, {len(outcome.gone)} gone")
        done.set()
        return measured.get(timeout=30) / deliveries * 1e6
    finally:
        child.join(timeout=30)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"{args.deliveries} signed POSTs per round, {args.rounds} rounds; median of rounds")
    for kind in ("aiohttp", "minimal"):
        figures = [measure(kind, args.deliveries) for _ in range(args.rounds)]
        print(
            f"{kind:8} {statistics.median(figures):6.1f} µs CPU per POST "
            f"(rounds: {', '.join(f'{x:.1f}' for x in figures)})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
